import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../lib/errors.js';

export interface Spooled {
  path: string;
  bytes: number;
  sha256: string;
}

export const fileTooLarge = (limit: number) =>
  new AppError(
    413,
    'file_too_large',
    `The file is larger than the limit of ${limit} bytes (${Math.round(limit / 1048576)} MiB); split it and upload the parts.`,
    {
      limit,
    },
  );

/**
 * Streams an upload to a temporary file, hashing and counting as it goes, and answers 413 as soon as
 * the limit is passed. Spooling lets the pipeline read the file twice (encoding detection, then
 * records) with memory flat, and gives the Idempotency-Key fingerprint before anything is staged.
 */
export async function spool(source: Readable, maxBytes: number): Promise<Spooled> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loopit-upload-'));
  const file = path.join(dir, 'upload');
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(fileTooLarge(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(file));
  } catch (error) {
    await discard(file);
    const code = (error as { code?: string }).code;
    if (error instanceof AppError) throw error;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw fileTooLarge(maxBytes);
    throw error;
  }
  return { path: file, bytes, sha256: hash.digest('hex') };
}

export async function discard(file: string): Promise<void> {
  await fs.rm(path.dirname(file), { recursive: true, force: true });
}
