import { USER_CATALOG, GROUP_CATALOG, type Catalog } from '../../src/scim/filter/catalog.js';
import {
  GROUP_SCHEMAS,
  USER_SCHEMAS,
  type ScimAttribute,
  type ScimSchema,
} from '../../src/scim/schema/model.js';

/** docs/scim.md's attribute tables, rendered from the schema model (test/scim-docs.test.ts keeps them equal). */

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function rows(schema: ScimSchema, core: string, catalog: Catalog): string[] {
  const prefix = schema.id === core ? '' : `${schema.id}:`;
  const out: string[] = [];
  const row = (path: string, a: ScimAttribute) => {
    const entry = catalog.get(`${prefix}${path}`);
    const filter = entry?.storage ? 'yes' : '—';
    const sort = entry?.storage && entry.sortable ? 'yes' : '—';
    const kind = `${a.type}${a.multiValued ? '[]' : ''}`;
    const flags = [
      a.required ? 'required' : '',
      a.caseExact ? 'caseExact' : '',
      a.uniqueness !== 'none' ? 'unique' : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(
      `| \`${path}\` | ${kind} | ${a.mutability} | ${a.returned} | ${flags || '—'} | ${filter} | ${sort} | ${cell(a.description)} |`,
    );
  };
  for (const a of schema.attributes) {
    row(a.name, a);
    for (const s of a.subAttributes ?? []) row(`${a.name}.${s.name}`, s);
  }
  return out;
}

export function attributeTables(): string {
  const table = (schemas: readonly ScimSchema[], catalog: Catalog) =>
    schemas.flatMap((schema) => [
      '',
      `#### ${schema.name} (\`${schema.id}\`)`,
      '',
      '| attribute | type | mutability | returned | | filter | sortBy | what Loopit does with it |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows(schema, schemas[0]!.id, catalog),
    ]);
  return [...table(USER_SCHEMAS, USER_CATALOG), ...table(GROUP_SCHEMAS, GROUP_CATALOG), ''].join('\n');
}
