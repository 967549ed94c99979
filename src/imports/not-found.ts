import { notFound } from '../lib/errors.js';

export const importNotFound = (id: string) =>
  notFound(
    'import_not_found',
    `No import with id '${id}' in this workspace; list imports with GET /v1/imports.`,
  );
