import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { PassThrough } from 'node:stream';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export interface SheetSpec {
  name: string;
  rows: unknown[][];
  state?: 'visible' | 'hidden';
}

/**
 * An .xlsx as Excel lays it out (exceljs's document writer: shared strings, styles), or with
 * `streaming`, as exceljs's streaming writer does: the shared strings and the workbook part come after
 * the sheets, which a reader has to hold the sheet back for.
 */
export async function workbook(sheets: SheetSpec[], options: { streaming?: boolean } = {}): Promise<Buffer> {
  if (!options.streaming) {
    const wb = new ExcelJS.Workbook();
    for (const s of sheets) {
      const ws = wb.addWorksheet(s.name, { state: s.state ?? 'visible' });
      s.rows.forEach((row, i) => {
        if (row.length > 0) ws.getRow(i + 1).values = row as ExcelJS.CellValue[];
      });
    }
    return Buffer.from(await wb.xlsx.writeBuffer());
  }
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: true, useStyles: true });
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name, { state: s.state ?? 'visible' });
    s.rows.forEach((row, i) => {
      if (row.length > 0) ws.getRow(i + 1).values = row as ExcelJS.CellValue[];
      ws.getRow(i + 1).commit();
    });
    ws.commit();
  }
  await wb.commit();
  return Buffer.concat(chunks);
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`;

/**
 * A minimal workbook written by hand, as other tools write them: one sheet whose XML is given (inline
 * strings, cells without `r`, a declared dimension), optional shared strings, any parts replaced.
 */
export async function handWorkbook(
  sheetXml: string,
  options: { sharedStrings?: string[]; parts?: Record<string, string | null> } = {},
): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(handParts(sheetXml, options)))
    if (text !== null) zip.file(name, text);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** The parts of `handWorkbook`, by path; a part given as null is left out. */
export function handParts(
  sheetXml: string,
  options: { sharedStrings?: string[]; parts?: Record<string, string | null> } = {},
): Record<string, string | null> {
  return {
    '[Content_Types].xml': CONTENT_TYPES,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    'xl/worksheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${sheetXml}</worksheet>`,
    ...(options.sharedStrings
      ? {
          'xl/sharedStrings.xml': `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${options.sharedStrings
            .map((s) => `<si><t xml:space="preserve">${s}</t></si>`)
            .join('')}</sst>`,
        }
      : {}),
    ...options.parts,
  };
}

/** Inline-string cells of a row, `r` attributes included unless `noRefs`. */
export function inlineRow(row: number, cells: string[], noRefs = false): string {
  const col = (i: number) => String.fromCharCode(65 + i);
  return `<row r="${row}">${cells
    .map((c, i) => `<c${noRefs ? '' : ` r="${col(i)}${row}"`} t="inlineStr"><is><t>${c}</t></is></c>`)
    .join('')}</row>`;
}
