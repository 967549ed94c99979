import { open } from 'node:fs/promises';
import { AppError } from '../../lib/errors.js';

/**
 * What one workbook may cost to read, checked before and while it is inflated, in the API's peek and in
 * the worker's conversion alike. A ZIP of a few hundred kilobytes can inflate to gigabytes, hold
 * hundreds of thousands of entries, or one string of hundreds of megabytes: each is refused by its cap.
 */

const MiB = 1_048_576;

export const WORKBOOK_LIMITS = {
  /** All the parts read, together, once inflated (a part read twice counts twice). */
  totalBytes: 1024 * MiB,
  /** The shared-string table, which the worker holds whole as the format requires. */
  sharedStringsBytes: 256 * MiB,
  /** Any other part read but the sheet (the workbook part, its relationships, the styles). */
  otherPartBytes: 16 * MiB,
  /** An .xlsx has tens of entries; thousands is no workbook Excel wrote. */
  entries: 10_000,
  /** The ZIP's central directory (the list of entries, read before any part). */
  directoryBytes: 4 * MiB,
  /** Excel's own limit on the text of one cell. */
  cellChars: 32_767,
  /**
   * Characters of XML between two things the parser reports (a tag, a text, a comment): one attribute
   * value or one cell's text with its escapes (`&amp;` is five) fits many times over.
   */
  xmlValueChars: 262_144,
} as const;

const mib = (bytes: number) => `${bytes / MiB} MiB`;

export const workbookTooLarge = (problem: string, limit: number): AppError =>
  new AppError(
    413,
    'workbook_too_large',
    `The workbook ${problem}; save its first sheet as CSV (UTF-8), or split it into smaller workbooks.`,
    { limit },
  );

export const partTooLarge = (part: string, limit: number): AppError =>
  workbookTooLarge(`part ${part} inflates to more than ${mib(limit)}, the limit for that part`, limit);

export const workbookInflatesTooMuch = (): AppError =>
  workbookTooLarge(
    `inflates to more than ${mib(WORKBOOK_LIMITS.totalBytes)}, the limit for one workbook`,
    WORKBOOK_LIMITS.totalBytes,
  );

export const tooManyEntries = (entries: number): AppError =>
  new AppError(
    413,
    'workbook_too_many_entries',
    `The file is a ZIP of ${entries} entries; an Excel workbook has tens, and at most ${WORKBOOK_LIMITS.entries} are read. Save the sheet as an Excel workbook (.xlsx) or as CSV (UTF-8).`,
    { limit: WORKBOOK_LIMITS.entries },
  );

export const cellTooLong = (where: string): AppError =>
  new AppError(
    422,
    'cell_too_long',
    `The workbook has a cell of more than ${WORKBOOK_LIMITS.cellChars} characters (${where}), more than Excel allows; shorten it.`,
    { limit: WORKBOOK_LIMITS.cellChars },
  );

export const xmlValueTooLong = (part: string): AppError =>
  new AppError(
    422,
    'xml_value_too_long',
    `The workbook's part ${part} has a value (a cell's text, an attribute or a comment) of more than ${WORKBOOK_LIMITS.xmlValueChars} characters, which no cell of Excel's holds; open it in Excel and save it again.`,
    { limit: WORKBOOK_LIMITS.xmlValueChars },
  );

export const formatCodeTooLong = (length: number, limit: number): AppError =>
  new AppError(
    422,
    'number_format_too_long',
    `The workbook has a number format of ${length} characters; Excel's are at most ${limit}. Open it in Excel and save it again.`,
    { limit },
  );

/** The per-part cap for a part's path. */
export const partLimit = (part: string, isSheet: boolean): number =>
  isSheet
    ? WORKBOOK_LIMITS.totalBytes
    : part === 'xl/sharedStrings.xml'
      ? WORKBOOK_LIMITS.sharedStringsBytes
      : WORKBOOK_LIMITS.otherPartBytes;

/** Bytes inflated so far by one read of a workbook, across its parts. */
export class InflateBudget {
  private used = 0;

  spend(bytes: number): void {
    this.used += bytes;
    if (this.used > WORKBOOK_LIMITS.totalBytes) throw workbookInflatesTooMuch();
  }
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
/** The end record (22 bytes) and the longest comment a ZIP can end with. */
const TAIL = 22 + 65_535;

/**
 * Reads the entry count and directory size from the ZIP's end record (ZIP64 included) and refuses a
 * ZIP past the caps before anything parses its directory. Says nothing of what it cannot find: the
 * ZIP reader then reports the file as damaged.
 */
export async function checkZipDirectory(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const length = Math.min(size, TAIL);
    const tail = Buffer.alloc(length);
    await file.read(tail, 0, length, size - length);
    let at = -1;
    for (let i = length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) return;
    let entries = tail.readUInt16LE(at + 10);
    let directory = tail.readUInt32LE(at + 12);
    if ((entries === 0xffff || directory === 0xffffffff) && at >= 20) {
      if (tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
        const record = Buffer.alloc(56);
        const offset = Number(tail.readBigUInt64LE(at - 20 + 8));
        await file.read(record, 0, 56, offset);
        if (record.readUInt32LE(0) === ZIP64_EOCD) {
          entries = Number(record.readBigUInt64LE(32));
          directory = Number(record.readBigUInt64LE(40));
        }
      }
    }
    if (entries > WORKBOOK_LIMITS.entries) throw tooManyEntries(entries);
    if (directory > WORKBOOK_LIMITS.directoryBytes)
      throw workbookTooLarge(
        `lists its entries in ${directory} bytes, more than ${mib(WORKBOOK_LIMITS.directoryBytes)}`,
        WORKBOOK_LIMITS.directoryBytes,
      );
  } finally {
    await file.close();
  }
}
