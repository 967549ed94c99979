import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { detectEncoding, openDecoded, type Encoding } from '../../src/imports/pipeline/decode.js';
import type { HeaderMapping } from '../../src/imports/pipeline/header.js';
import { resolveHeader } from '../../src/imports/pipeline/mapping.js';
import { readRecords, type Delimiter, type RecordEvent } from '../../src/imports/pipeline/records.js';
import { sniffFile, type SniffResult } from '../../src/imports/pipeline/sniff.js';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** A temporary directory for the current test file, removed after it. */
export function useTempDir(): (name: string, bytes: Buffer | string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return (name, bytes) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
}

export async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const event of events) out.push(event);
  return out;
}

export async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks = (await stream.toArray()) as (Buffer | string)[];
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

export interface ReadFile {
  sniff: SniffResult;
  encoding: Encoding;
  delimiter: Delimiter;
  header: string[];
  mapping: HeaderMapping;
  records: Exclude<RecordEvent, { kind: 'header' }>[];
}

/** A file through the whole pure pipeline, as the upload route runs it. */
export async function readFile(path: string): Promise<ReadFile> {
  const sniff = await sniffFile(path);
  const encoding = await detectEncoding(path);
  const [header, ...records] = await collect(readRecords(openDecoded(path, encoding)));
  if (header?.kind !== 'header') throw new Error(`${path} has no header`);
  const rest = records.filter((r): r is ReadFile['records'][number] => r.kind !== 'header');
  return {
    sniff,
    encoding,
    delimiter: header.delimiter,
    header: header.cells,
    mapping: resolveHeader(header.cells),
    records: rest,
  };
}
