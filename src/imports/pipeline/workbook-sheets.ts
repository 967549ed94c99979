import { AppError } from '../../lib/errors.js';
import { scanAll, type Entries, type Part } from './workbook-parts.js';

/** A workbook's sheets: which there are, which a person sees, and which one a `sheet` option names. */

export interface Sheet {
  name: string;
  hidden: boolean;
  part: Part | undefined;
}

export interface Book {
  files: Entries;
  sheets: Sheet[];
  date1904: boolean;
}

/** The workbook's sheets in order, each with its part (undefined when the workbook lacks it). */
export async function openBook(files: Entries): Promise<Book> {
  const listed: { name: string; rid: string; hidden: boolean }[] = [];
  let date1904 = false;
  await scanAll(files.get('xl/workbook.xml')!, () => ({
    open: (tag) => {
      const a = tag.attributes as Record<string, string>;
      if (tag.name === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
      if (tag.name === 'sheet') {
        listed.push({
          name: a.name ?? '',
          rid: a['r:id'] ?? '',
          hidden: (a.state ?? 'visible') !== 'visible',
        });
      }
    },
  }));
  const rels = new Map<string, string>();
  const relsFile = files.get('xl/_rels/workbook.xml.rels');
  if (relsFile) {
    await scanAll(relsFile, () => ({
      open: (tag) => {
        const a = tag.attributes as Record<string, string>;
        if (tag.name === 'Relationship' && a.Id && a.Target) rels.set(a.Id, a.Target);
      },
    }));
  }
  const sheets = listed.map(({ name, rid, hidden }) => {
    const target = rels.get(rid);
    const path = target && (target.startsWith('/') ? target.slice(1) : `xl/${target}`);
    const part = path ? files.get(path) : undefined;
    return { name, hidden, part: part && { ...part, isSheet: true } };
  });
  return { files, sheets, date1904 };
}

/** The sheets a person sees (hidden ones are skipped); all of them if every one is hidden. */
export const visibleSheets = (book: Book): Sheet[] => {
  const visible = book.sheets.filter((s) => !s.hidden);
  return visible.length > 0 ? visible : book.sheets.slice(0, 1);
};

/** 422 `unknown_sheet`: the `sheet` option names no visible sheet. */
export const unknownSheet = (given: string, sheets: string[]): AppError =>
  new AppError(
    422,
    'unknown_sheet',
    `The workbook has no sheet '${given}'; give one of its sheets by name (${sheets
      .map((s) => `'${s}'`)
      .join(', ')}) or by position (1 to ${sheets.length}).`,
    { sheets },
  );

/** The visible sheet a `sheet` option names: by name (exactly, else ignoring case), else by position. */
export function chosenSheet(visible: Sheet[], given: string): Sheet | undefined {
  const folded = given.toLowerCase();
  const byName =
    visible.find((s) => s.name.normalize('NFC').trim() === given) ??
    visible.find((s) => s.name.normalize('NFC').trim().toLowerCase() === folded);
  if (byName) return byName;
  if (!/^\d{1,6}$/.test(given)) return undefined;
  return visible[Number(given) - 1];
}
