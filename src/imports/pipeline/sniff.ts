import { open } from 'node:fs/promises';

export type SniffResult = { ok: true } | { ok: false; detected: string };

const SAMPLE_BYTES = 8192;
/** Share of control bytes above which a sample is binary; text with a few stray ones (FileMaker's VT) passes. */
const MAX_CONTROL_SHARE = 0.05;

/** Magic numbers of what people upload instead of a CSV export; `detected` completes "the file looks like ...". */
const SIGNATURES: { bytes: (number | undefined)[]; detected: string }[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], detected: 'an Excel workbook (.xlsx) or ZIP archive' },
  { bytes: [0x50, 0x4b, 0x05, 0x06], detected: 'an Excel workbook (.xlsx) or ZIP archive' },
  { bytes: [0x50, 0x4b, 0x07, 0x08], detected: 'an Excel workbook (.xlsx) or ZIP archive' },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    detected: 'an old Excel workbook (.xls) or other Office document',
  },
  { bytes: [0x1f, 0x8b], detected: 'a gzip-compressed file' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], detected: 'a 7-Zip archive' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], detected: 'an xz-compressed file' },
  { bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], detected: 'a RAR archive' },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], detected: 'a PDF document' },
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], detected: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], detected: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38, undefined, 0x61], detected: 'a GIF image' },
];

const startsWith = (sample: Buffer, bytes: (number | undefined)[]): boolean =>
  sample.length >= bytes.length && bytes.every((b, i) => b === undefined || sample[i] === b);

/** 'BZh' + block size + the block or end-of-stream magic: 'BZh' alone could begin a text header. */
function isBzip2(sample: Buffer): boolean {
  if (!/^BZh[1-9]$/.test(sample.toString('latin1', 0, 4))) return false;
  const magic = sample.toString('hex', 4, 10);
  return magic === '314159265359' || magic === '177245385090';
}

const isControl = (code: number): boolean =>
  (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f;

function controlShare(codes: ArrayLike<number>): number {
  let controls = 0;
  for (let i = 0; i < codes.length; i++) if (isControl(codes[i]!)) controls++;
  return codes.length === 0 ? 0 : controls / codes.length;
}

/** UTF-16 without a BOM has a NUL in every other byte for Latin text; name it, it is a fixable export. */
function looksLikeBomlessUtf16(sample: Buffer): boolean {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0) continue;
    if (i % 2 === 0) even++;
    else odd++;
  }
  const half = sample.length / 2;
  return Math.max(even, odd) > half * 0.4 && Math.min(even, odd) < half * 0.02;
}

function sniffText(sample: Buffer): SniffResult {
  const utf16 =
    sample[0] === 0xff && sample[1] === 0xfe
      ? 'utf-16le'
      : sample[0] === 0xfe && sample[1] === 0xff
        ? 'utf-16be'
        : null;
  if (utf16 !== null) {
    const text = new TextDecoder(utf16).decode(sample.subarray(0, sample.length - (sample.length % 2)));
    const codes = Array.from(text, (c) => c.charCodeAt(0));
    return controlShare(codes) > MAX_CONTROL_SHARE || codes.includes(0) ? binary() : { ok: true };
  }
  if (sample.includes(0)) {
    return looksLikeBomlessUtf16(sample)
      ? { ok: false, detected: 'UTF-16 text without a byte order mark' }
      : binary();
  }
  return controlShare(sample) > MAX_CONTROL_SHARE ? binary() : { ok: true };
}

const binary = (): SniffResult => ({ ok: false, detected: 'binary data' });

/**
 * Decides from the first 8 KB whether the file is delimited text, whatever type it was declared with
 * (Windows declares .csv as application/vnd.ms-excel). An empty file passes: the caller refuses it.
 */
export async function sniffFile(path: string): Promise<SniffResult> {
  return sniffBytes(await fileStart(path));
}

/** The first up to 8 KB of a file, the sample sniffing decides on. */
export async function fileStart(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The same decision on bytes already in hand (the first up to 8 KB of the upload). */
export function sniffBytes(sample: Buffer): SniffResult {
  const signature = SIGNATURES.find((s) => startsWith(sample, s.bytes));
  if (signature) return { ok: false, detected: signature.detected };
  if (isBzip2(sample)) return { ok: false, detected: 'a bzip2-compressed file' };
  return sniffText(sample);
}
