import ExcelJS from 'exceljs';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

const FIRST = [
  'Ada',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Eun-ji',
  'Farah',
  'Gustav',
  'Hana',
  'Ines',
  'José',
  'Kofi',
];
const LAST = ['Lovelace', 'Okafor', 'Müller', "O'Brien", 'Nakamura', 'Silva', 'Kowalski', 'Haddad', 'Lee'];

/** Row i (1-based) of every benchmark file: unique e-mail, names, role (1 in 20 Admin), location. */
export function benchRow(
  i: number,
  tag = 'user',
): {
  email: string;
  first: string;
  last: string;
  role: string;
  location: string;
} {
  return {
    email: `${tag}${i}@bench.example.com`,
    first: FIRST[i % FIRST.length]!,
    last: LAST[(i * 7) % LAST.length]!,
    role: i % 20 === 0 ? 'Admin' : 'Member',
    location: i % 10 === 0 ? '' : 'London',
  };
}

const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/**
 * Streams the service's input file (Email, First Name, Last Name, Role, Location) to `file`, and, when
 * `floorFile` is given, the same rows as (email, name) for the raw COPY floor. Never holds the file.
 * `tag` starts every e-mail (`user1@…`), so that a warm-up file's users never collide with the timed ones.
 */
export async function writeBenchFiles(
  file: string,
  rows: number,
  floorFile?: string,
  tag = 'user',
): Promise<void> {
  const out = createWriteStream(file);
  const floor = floorFile ? createWriteStream(floorFile) : undefined;
  await write(out, 'Email,First Name,Last Name,Role,Location\n');
  if (floor) await write(floor, 'email,name\n');
  const CHUNK = 2_000;
  for (let start = 1; start <= rows; start += CHUNK) {
    let text = '';
    let floorText = '';
    for (let i = start; i < Math.min(start + CHUNK, rows + 1); i += 1) {
      const r = benchRow(i, tag);
      text += `${r.email},${r.first},${r.last},${r.role},${r.location}\n`;
      if (floor) floorText += `${r.email},${quote(`${r.first} ${r.last}`)}\n`;
    }
    await write(out, text);
    if (floor) await write(floor, floorText);
  }
  await close(out);
  if (floor) await close(floor);
}

/** The same rows as an Excel workbook, shared strings stored after the sheet (as Excel stores them). */
export async function writeBenchWorkbook(file: string, rows: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const ws = wb.addWorksheet('Users');
  ws.addRow(['Email', 'First Name', 'Last Name', 'Role', 'Location']).commit();
  for (let i = 1; i <= rows; i++) {
    const r = benchRow(i);
    ws.addRow([r.email, r.first, r.last, r.role, r.location]).commit();
  }
  ws.commit();
  await wb.commit();
}
