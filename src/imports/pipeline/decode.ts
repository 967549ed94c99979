import { CsvError } from './csv-error.js';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

export type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * WHATWG windows-1252 for 0x80–0x9F; every other byte is its own code point. Hand-written because
 * Node 20.18.3+ decodes 'windows-1252' as Latin-1 (nodejs/node#56542, #60888): 0x92 would become U+0092
 * instead of the apostrophe Excel wrote. Every byte maps to a character, so no U+FFFD can come out.
 */
const CP1252_HIGH =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

export const decodeWindows1252 = (bytes: Buffer): string =>
  bytes.toString('latin1').replace(/[\x80-\x9F]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);

async function firstBytes(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A BOM decides; otherwise the whole file must be valid UTF-8 (streamed, never held in memory), and
 * anything that is not is read as Windows-1252, what older Excel writes. Pure ASCII reads as 'utf-8'.
 */
export async function detectEncoding(path: string): Promise<Encoding> {
  const head = await firstBytes(path, 3);
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8-bom';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of createReadStream(path)) decoder.decode(chunk as Buffer, { stream: true });
    decoder.decode();
    return 'utf-8';
  } catch (error) {
    if (error instanceof TypeError) return 'windows-1252';
    throw error;
  }
}

async function* decodeChunks(path: string, encoding: Encoding): AsyncGenerator<string> {
  // TextDecoder drops the BOM itself (ignoreBOM defaults to false) and keeps split sequences between chunks.
  // Fatal: a file whose BOM says UTF-8 or UTF-16 but whose bytes are not (a lone surrogate, a cut
  // sequence) is refused rather than stored with U+FFFD in its names.
  const decoder =
    encoding === 'windows-1252'
      ? null
      : new TextDecoder(encoding === 'utf-8-bom' ? 'utf-8' : encoding, { fatal: true });
  let lines = 0;
  const count = (text: string) => {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    return text;
  };
  let current: Buffer | undefined;
  try {
    for await (const chunk of createReadStream(path)) {
      current = chunk as Buffer;
      const text = decoder ? decoder.decode(current, { stream: true }) : decodeWindows1252(current);
      if (text !== '') yield count(text);
    }
    current = undefined;
    const rest = decoder?.decode() ?? '';
    if (rest !== '') yield rest;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // The row: the lines before this chunk, and those of the chunk before its first undecodable byte.
    if (current) {
      const lenient = new TextDecoder(encoding === 'utf-8-bom' ? 'utf-8' : encoding).decode(current);
      count(lenient.slice(0, Math.max(0, lenient.indexOf('\ufffd'))));
    }
    const label = encoding === 'utf-8-bom' ? 'UTF-8' : encoding.toUpperCase();
    throw new CsvError(
      'invalid_csv',
      `The file starts with a ${label} byte-order mark, but row ${lines + 1} holds bytes that are not ${label}; save it again as "CSV UTF-8".`,
      lines + 1,
    );
  }
}

/**
 * The file as string chunks in `encoding`, BOM removed. No Unicode normalisation here: cells are
 * NFC-normalised one by one (`cellValue`), as macOS exports may be NFD.
 */
export function openDecoded(path: string, encoding: Encoding): Readable {
  return Readable.from(decodeChunks(path, encoding), { objectMode: true });
}
