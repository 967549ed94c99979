import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { AppError, badRequest } from '../lib/errors.js';
import { unstorableText } from '../lib/text.js';
import { OPTION_NAMES, parseOptions, type ImportOptions } from './options.js';
import { discard, fileTooLarge, spool, type Spooled } from './spool.js';

export interface ReadUpload {
  options: ImportOptions;
  fileName: string | null;
  spooled: Spooled;
}

const isStream = (value: unknown): value is Readable =>
  typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';

const givenTwice = (name: string) =>
  badRequest('invalid_option', `The form field '${name}' is given twice; give it once.`, { field: name });

function checkNames(raw: Record<string, unknown>): void {
  for (const name of Object.keys(raw)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name) && name !== 'fileName') {
      throw badRequest(
        'invalid_option',
        `Unknown option '${name}'; options are ${OPTION_NAMES.join(', ')}.`,
        { field: name },
      );
    }
  }
}

/**
 * Reads an upload: multipart/form-data with a `file` part (options as fields before or after it), or
 * the raw file as the body. Options may also come in the query string; form fields win. The file is
 * spooled to disk as it arrives, never held in memory.
 */
export async function readUpload(request: FastifyRequest, maxBytes: number): Promise<ReadUpload> {
  const query = { ...(request.query as Record<string, string>) };
  checkNames(query);
  if (request.isMultipart()) {
    const fields: Record<string, string> = {};
    let spooled: Spooled | undefined;
    let fileName: string | null = null;
    try {
      for await (const part of request.parts({
        limits: { fileSize: maxBytes, files: 5, fields: 20, fieldSize: 10_000 },
      })) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || spooled) {
            part.file.resume(); // not ours: drain it
            throw badRequest(
              'unexpected_file',
              `Send one file, in the form field 'file' (got '${part.fieldname}').`,
              { field: part.fieldname },
            );
          }
          fileName = part.filename || null;
          spooled = await spool(part.file, maxBytes);
        } else {
          if (Object.hasOwn(fields, part.fieldname)) throw givenTwice(part.fieldname);
          if (part.valueTruncated)
            throw badRequest(
              'invalid_option',
              `The form field '${part.fieldname}' is longer than 10,000 characters; shorten it.`,
              { field: part.fieldname },
            );
          fields[part.fieldname] = String(part.value);
        }
      }
      checkNames(fields);
      const bad = unstorableText(fields) ?? (fileName === null ? undefined : unstorableText(fileName));
      if (bad !== undefined)
        throw badRequest('invalid_text', `The form contains ${bad}, which cannot be stored; remove it.`);
      if (!spooled)
        throw badRequest('missing_file', "The form has no file; send the CSV in the form field 'file'.", {
          field: 'file',
        });
      return {
        options: parseOptions({ ...query, ...fields }),
        fileName: fields.fileName ?? fileName ?? query.fileName ?? null,
        spooled,
      };
    } catch (error) {
      // The caller discards the spooled file only once this returns; a refusal after the file part must too.
      if (spooled) await discard(spooled.path);
      // busboy truncates the part at the limit and @fastify/multipart throws from the parts iterator.
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw fileTooLarge(maxBytes);
      throw error;
    }
  }
  if (!isStream(request.body)) {
    throw new AppError(
      415,
      'unsupported_file_type',
      'Send the CSV as multipart/form-data (field "file") or as the raw request body (text/csv).',
    );
  }
  const options = parseOptions(query);
  return { options, fileName: query.fileName ?? null, spooled: await spool(request.body, maxBytes) };
}
