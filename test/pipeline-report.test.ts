import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { headerKey } from '../src/imports/pipeline/aliases.js';
import { cellValue, inputCells, mappedValues } from '../src/imports/pipeline/header.js';
import { resolveHeader as mapHeader } from '../src/imports/pipeline/mapping.js';
import { readRecords } from '../src/imports/pipeline/records.js';
import {
  reportColumns,
  reportStream,
  templateCsv,
  type ReportRow,
} from '../src/imports/pipeline/report-writer.js';
import { bytesOf, collect, fixture, readFile, useTempDir } from './support/pipeline.js';

const write = useTempDir();
const REPORT = ['row', 'status', 'invitation', 'error_code', 'error_message', 'user_id'];

const row = (cells: string[], extra: Partial<ReportRow> = {}): ReportRow => ({
  cells,
  row: 2,
  status: 'created',
  invitation: 'queued',
  errorCode: null,
  errorMessage: null,
  userId: 'usr_1',
  ...extra,
});

async function report(inputColumns: string[], rows: ReportRow[], delimiter = ','): Promise<string> {
  return (await bytesOf(reportStream({ delimiter, inputColumns }, Readable.from(rows)))).toString('utf8');
}

describe('mapHeader', () => {
  it.each([
    ['email', ['Email', 'Email Address', 'E-mail', 'Mail', ' E_MAIL ', 'e-mail address']],
    ['name', ['Name', 'Full Name', 'Display Name', 'displayName', 'FULL-NAME']],
    ['givenName', ['First Name', 'Given Name', 'first_name', 'givenName']],
    ['familyName', ['Last Name', 'Surname', 'Family Name', 'LAST.NAME']],
    ['role', ['Role', ' role ']],
    ['location', ['Location', 'Branch', 'Site']],
    ['externalId', ['External ID', 'external_id', 'externalId']],
  ])('maps %s from %j, ignoring case, spaces and punctuation', (field, names) => {
    for (const name of names) expect(mapHeader([name]).fields).toEqual({ [field]: 0 });
  });

  it('compares header names after NFC: a macOS NFD header matches', () => {
    expect(headerKey('Pre\u0301nom')).toBe(headerKey('Prénom'));
    expect(headerKey('\uFEFFEmail')).toBe('email');
  });

  it('names the fields that are missing: email, and name or the missing half of the name parts', () => {
    expect(mapHeader(['Employee ID']).missing).toEqual(['email', 'name']);
    expect(mapHeader(['Email', 'First Name']).missing).toEqual(['familyName']);
    expect(mapHeader(['Email', 'Surname']).missing).toEqual(['givenName']);
    expect(mapHeader(['Email', 'First Name', 'Surname']).missing).toEqual([]);
    expect(mapHeader(['Full Name', 'Site']).missing).toEqual(['email']);
  });

  it('reads a field from the first of two columns and keeps the second as an input column', () => {
    const mapping = mapHeader(['Name', 'Email', 'Mail', 'Email']);
    expect(mapping.fields).toEqual({ name: 0, email: 1 });
    expect(mapping.inputColumns).toEqual(['Name', 'Email', 'Mail', 'Email']);
  });

  it('ignores the six report columns, suffixed or not, when they end the header in order', () => {
    const mapping = mapHeader([
      'Email',
      'Name',
      'status',
      'row',
      'status_',
      'invitation',
      'error_code',
      'error_message',
      'user_id',
    ]);
    expect(mapping.inputColumns).toEqual(['Email', 'Name', 'status']);
    expect(mapping.inputIndexes).toEqual([0, 1, 2]);
    expect(mapping.fields).toEqual({ email: 0, name: 1 });
  });

  it('treats a status or row column of a file that is not a report as input', () => {
    expect(mapHeader(['Email', 'Name', 'status', 'row']).inputColumns).toEqual([
      'Email',
      'Name',
      'status',
      'row',
    ]);
    const shuffled = [
      'Email',
      'Name',
      'status',
      'row',
      'invitation',
      'error_code',
      'error_message',
      'user_id',
    ];
    expect(mapHeader(shuffled).inputColumns).toEqual(shuffled);
  });
});

describe('cellValue', () => {
  it('trims and normalises NFD to NFC', () => {
    const nfd = '  Zoe\u0308 Mu\u0308ller\u00a0';
    expect(cellValue(nfd)).toBe('Zoë Müller');
    expect(cellValue(nfd)).toBe('Zoë Müller'.normalize('NFC'));
  });

  it.each(["'=1+1", "'+49 30 1234", "'-5", "'@sum", "'\tx", "'\rx"])(
    'removes the report guard from %j',
    (cell) => {
      expect(cellValue(cell)).toBe(cell.slice(1).trim());
    },
  );

  it.each(["O'Brien", "'quoted'", "'", "''=x"])('leaves %j as it is', (cell) =>
    expect(cellValue(cell)).toBe(cell),
  );

  it('folds a newline inside a name to one space, and only in names', () => {
    expect(cellValue('Linus \r\n Benedict', 'name')).toBe('Linus Benedict');
    expect(cellValue('line one\nline two')).toBe('line one\nline two');
  });

  it('folds each run of breaks with the blanks around it, and keeps blanks without a break', () => {
    expect(cellValue('a \t\r\n\n \tb  c\rd', 'name')).toBe('a b  c d');
    expect(cellValue('a \n \n b', 'name')).toBe('a  b');
  });

  it('folds a name cell of 200,000 spaces and one break in one pass', () => {
    const spaces = ' '.repeat(200_000);
    expect(cellValue(`Ada${spaces}x\n`, 'name')).toBe(`Ada${spaces}x`);
    expect(cellValue(`Ada${spaces}\nLovelace`, 'name')).toBe('Ada Lovelace');
    expect(cellValue(`${'\t \r'.repeat(70_000)}Ada`, 'name')).toBe('Ada');
  });
});

describe('reportStream', () => {
  it('writes UTF-8 with BOM, CRLF and the input delimiter, the input columns then the six', async () => {
    const csv = await report(['Email', 'Name'], [row(['a@x.io', 'A'])], ';');
    expect(csv).toBe(
      '\uFEFFEmail;Name;row;status;invitation;error_code;error_message;user_id\r\na@x.io;A;2;created;queued;;;usr_1\r\n',
    );
  });

  it('suffixes a report column with _ until no input column has its name', () => {
    expect(reportColumns(['Status', 'row', 'row_', 'user_id '])).toEqual([
      'row__',
      'status_',
      'invitation',
      'error_code',
      'error_message',
      'user_id_',
    ]);
  });

  it('guards every cell that a spreadsheet would run as a formula, input and added alike', async () => {
    const csv = await report(
      ['=Email', 'Note'],
      [row(['@a', '-1'], { errorMessage: '+ fix it', status: '=x' })],
    );
    expect(csv.split('\r\n').slice(0, 2)).toEqual([
      "\uFEFF'=Email,Note,row,status,invitation,error_code,error_message,user_id",
      "'@a,'-1,2,'=x,queued,,'+ fix it,usr_1",
    ]);
    const tabbed = await report(['Note'], [row(['\tx'])], '\t');
    expect(tabbed).toContain('\r\n"\'\tx"\t2\t');
  });

  it('quotes cells holding the delimiter, a quote, CR or LF, and no others', async () => {
    const csv = await report(
      ['a', 'b', 'c', 'd', 'e'],
      [row(['x,y', 'say "hi"', 'one\ntwo', 'cr\rhere', 'semi;colon'])],
    );
    expect(csv.split('\r\n')[1]).toBe(
      '"x,y","say ""hi""","one\ntwo","cr\rhere",semi;colon,2,created,queued,,,usr_1',
    );
  });

  it('writes a sync deactivation with an empty row and input cells, and fits ragged rows to the header', async () => {
    const rows = [
      row([], { row: null, status: 'deactivated', invitation: null, userId: 'usr_9' }),
      row(['a'], { row: 3, status: 'failed', errorCode: 'malformed_row', invitation: null, userId: null }),
      row(['a', 'b', 'c'], {
        row: 4,
        status: 'failed',
        errorCode: 'malformed_row',
        invitation: null,
        userId: null,
      }),
    ];
    expect((await report(['Email', 'Name'], rows)).split('\r\n').slice(1)).toEqual([
      ',,,deactivated,,,,usr_9',
      'a,,3,failed,,malformed_row,,',
      'a,b,4,failed,,malformed_row,,',
      '',
    ]);
  });

  it('stops reading the rows when the response is destroyed', async () => {
    let closed = false;
    async function* rows() {
      try {
        for (let i = 0; ; i++) yield row([`u${i}@x.io`]);
      } finally {
        closed = true;
      }
    }
    const stream = reportStream({ delimiter: ',', inputColumns: ['Email'] }, rows());
    const chunks = stream[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    await chunks.return?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(true);
  });

  it.each(['every-error.csv', 'google-sheets-aliases.csv', 'excel-semicolon-bom.csv', 'utf16le-tab.csv'])(
    'round-trips %s: its report read back gives the same input columns and values, the six ignored',
    async (name) => {
      const input = await readFile(fixture(name));
      const width = input.mapping.inputColumns.length;
      const rows = input.records.map((r, i) =>
        row(inputCells(r.cells, input.mapping), {
          row: r.row,
          errorMessage: i % 2 ? '-bad, "really"\nbad' : null,
        }),
      );
      const csv = await bytesOf(
        reportStream(
          { delimiter: input.delimiter, inputColumns: input.mapping.inputColumns },
          Readable.from(rows),
        ),
      );
      const back = await readFile(write(`report-${name}`, csv));
      expect(back).toMatchObject({ sniff: { ok: true }, encoding: 'utf-8-bom', delimiter: input.delimiter });
      expect(back.mapping.inputColumns).toEqual(input.mapping.inputColumns);
      expect(back.mapping.fields).toEqual(input.mapping.fields);
      expect(back.header.slice(width)).toEqual(REPORT);
      expect(back.records.every((r) => r.kind === 'row')).toBe(true);
      const fitted = (cells: string[]) => Array.from({ length: width }, (_, i) => cellValue(cells[i] ?? ''));
      expect(back.records.map((r) => inputCells(r.cells, back.mapping).map((c) => cellValue(c)))).toEqual(
        input.records.map((r) => fitted(inputCells(r.cells, input.mapping))),
      );
      expect(back.records.map((r) => mappedValues(r.cells, back.mapping))).toEqual(
        input.records.map((r) => mappedValues(fitted(r.cells), input.mapping)),
      );
    },
  );

  it('skips the sync deactivations of a report uploaded again, which have no input cells', async () => {
    const rows = [
      row(['a@x.io', 'A']),
      row([], { row: null, status: 'deactivated', userId: 'usr_9' }),
      row(['b@x.io', 'B']),
    ];
    const csv = await report(['Email', 'Name'], rows);
    const events = await collect(readRecords(Readable.from([csv])));
    expect(events.slice(1).map((e) => [e.kind, e.row, e.cells.slice(0, 2)])).toEqual([
      ['row', 2, ['a@x.io', 'A']],
      ['row', 4, ['b@x.io', 'B']],
    ]);
    const ragged = await collect(readRecords(Readable.from(['a,b,c\n,,,x\n'])));
    expect(ragged[1]).toMatchObject({ kind: 'malformed', row: 2 });
  });

  it('keeps an input column named like a report column through a round trip', async () => {
    const inputColumns = ['Email', 'Name', 'Status', 'row'];
    const csv = await report(inputColumns, [row(['a@x.io', 'A', 'contractor', '7'])]);
    const [header, data] = await collect(readRecords(Readable.from([csv])));
    expect(mapHeader(header!.cells).inputColumns).toEqual(inputColumns);
    expect(data!.cells.slice(0, 4)).toEqual(['a@x.io', 'A', 'contractor', '7']);
  });
});

describe('templateCsv', () => {
  it('is UTF-8 with BOM and CRLF, and its header maps every field with nothing missing', async () => {
    const csv = templateCsv();
    expect(csv.startsWith('\uFEFFemail,first name,last name,role,location,external id\r\n')).toBe(true);
    const [header, ...rows] = await collect(readRecords(Readable.from([csv])));
    expect(mapHeader(header!.cells)).toMatchObject({
      fields: { email: 0, givenName: 1, familyName: 2, role: 3, location: 4, externalId: 5 },
      missing: [],
    });
    expect(rows.map((r) => [r.kind, r.row])).toEqual([
      ['row', 2],
      ['row', 3],
    ]);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});
