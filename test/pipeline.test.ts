import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectEncoding, openDecoded, decodeWindows1252 } from '../src/imports/pipeline/decode.js';
import { mappedValues } from '../src/imports/pipeline/header.js';
import { CsvError, readRecords } from '../src/imports/pipeline/records.js';
import { sniffBytes, sniffFile } from '../src/imports/pipeline/sniff.js';
import { matchKey } from '../src/lib/text.js';
import { emailProblem, nameProblem } from '../src/provisioning/validate.js';
import { collect, fixture, readFile, useTempDir } from './support/pipeline.js';

const write = useTempDir();
const text = (...chunks: string[]) => Readable.from(chunks);
const rowsOf = (file: Awaited<ReturnType<typeof readFile>>) => file.records.map((r) => [r.row, r.cells]);

describe('CSV fixtures through sniff, decode, records and header mapping', () => {
  it('reads an Excel UTF-8 export with a BOM, semicolons and CRLF', async () => {
    const bytes = readFileSync(fixture('excel-semicolon-bom.csv'));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString().split('\r\n')).toHaveLength(6);
    const file = await readFile(fixture('excel-semicolon-bom.csv'));
    expect(file).toMatchObject({ sniff: { ok: true }, encoding: 'utf-8-bom', delimiter: ';' });
    expect(file.header).toEqual(['E-mail', 'First Name', 'Surname', 'Role', 'Branch']);
    expect(file.mapping).toMatchObject({
      fields: { email: 0, givenName: 1, familyName: 2, role: 3, location: 4 },
      inputColumns: file.header,
      inputIndexes: [0, 1, 2, 3, 4],
      missing: [],
    });
    expect(rowsOf(file)).toEqual([
      [2, ['anna.schmidt@example.com', 'Anna', 'Schmidt', 'Member', 'Berlin']],
      [3, ['zoe.muller@example.com', 'Zoë', 'Müller', 'Admin', 'Zürich']],
      [4, ['joao.conceicao@example.com', 'João', 'Conceição', 'Member', 'São Paulo']],
      [5, ['pierre.dupont@example.com', 'Pierre', 'Dupont; Jr.', 'Member', 'Paris']],
    ]);
  });

  it('reads a Google Sheets export with aliases, extra columns and quoted commas, quotes and newlines', async () => {
    const file = await readFile(fixture('google-sheets-aliases.csv'));
    expect(file).toMatchObject({ sniff: { ok: true }, encoding: 'utf-8', delimiter: ',' });
    expect(file.mapping.fields).toEqual({ email: 0, name: 1, location: 2 });
    expect(file.mapping.inputColumns).toEqual([
      'Email Address',
      'Full Name',
      'Site',
      'Employee ID',
      'Manager Email',
    ]);
    expect(rowsOf(file)).toEqual([
      [2, ['maria.garcia@example.com', 'María García', 'Madrid', 'E-1001', '']],
      [3, ['li.wei@example.com', 'Wei, Li', 'Singapore', 'E-1002', 'maria.garcia@example.com']],
      [4, ['sam.obrien@example.com', "Sam O'Brien", 'Dublin', 'E-1003', 'maria.garcia@example.com']],
      [5, ['chris.taylor@example.com', 'Chris\nTaylor', 'London', 'E-1004', 'li.wei@example.com']],
      [6, ['bob.smith@example.com', 'Robert "Bob" Smith', 'London', 'E-1005', '']],
    ]);
    expect(mappedValues(file.records[3]!.cells, file.mapping)).toEqual({
      email: 'chris.taylor@example.com',
      name: 'Chris Taylor',
      location: 'London',
    });
  });

  it('falls back to Windows-1252 for a legacy Excel export without a single U+FFFD', async () => {
    const file = await readFile(fixture('excel-legacy-windows1252.csv'));
    expect(file).toMatchObject({ sniff: { ok: true }, encoding: 'windows-1252', delimiter: ';' });
    expect(file.mapping.fields).toEqual({ email: 0, name: 1, role: 2, location: 3 });
    expect(rowsOf(file)).toEqual([
      [2, ['zoe.muller@example.com', 'Zoë Müller', 'Member', 'SÃO PAULO']],
      [3, ['francois.oeuvre@example.com', 'François Œuvre', 'Member', 'Paris']],
      [4, ['renee.oconnor@example.com', 'Renée O’Connor', 'Admin', 'Dublin']],
      [5, ['jose.nunez@example.com', 'José Núñez', 'Member', 'Málaga']],
    ]);
    expect(JSON.stringify(file.records)).not.toContain('\uFFFD');
    expect(matchKey(file.records[0]!.cells[3]!)).toBe(matchKey('São Paulo'));
  });

  it("reads Excel's UTF-16 LE Unicode text, tab-delimited, surrogate pairs included", async () => {
    const file = await readFile(fixture('utf16le-tab.csv'));
    expect(file).toMatchObject({ sniff: { ok: true }, encoding: 'utf-16le', delimiter: '\t' });
    expect(file.header).toEqual(['Email', 'Given Name', 'Family Name', 'Role', 'Location']);
    expect(file.mapping.fields).toEqual({ email: 0, givenName: 1, familyName: 2, role: 3, location: 4 });
    expect(rowsOf(file)).toEqual([
      [2, ['yuki.yamada@example.com', '由紀', '山田', 'Member', 'Tokyo']],
      [3, ['olga.petrova@example.com', 'Ольга', 'Петрова', 'Member', 'Moscow']],
      [4, ['taro.yoshino@example.com', '太郎', '𠮷野', 'Admin', 'Osaka']],
      [5, ['amir.haddad@example.com', 'أمير', 'حداد', 'Member', 'Dubai']],
    ]);
  });

  it('numbers every row of every-error.csv as a spreadsheet does and goes on past malformed ones', async () => {
    const file = await readFile(fixture('every-error.csv'));
    expect(file).toMatchObject({ sniff: { ok: true }, encoding: 'utf-8', delimiter: ',' });
    expect(file.records.map((r) => [r.row, r.kind, r.cells.length])).toEqual([
      [2, 'row', 6],
      [3, 'row', 6],
      [4, 'row', 6],
      [5, 'row', 6],
      [7, 'row', 6],
      [8, 'row', 6],
      [10, 'row', 6],
      [11, 'row', 6],
      [12, 'row', 6],
      [13, 'malformed', 5],
      [14, 'row', 6],
      [15, 'row', 6],
      [16, 'malformed', 7],
    ]);
    expect(file.records[9]).toMatchObject({
      reason: expect.stringMatching(/^Row 13 has 5 fields where the header has 6; check/),
    });
    const byRow = new Map(file.records.map((r) => [r.row, mappedValues(r.cells, file.mapping)]));
    expect(emailProblem(byRow.get(3)!.email!)?.code).toBe('missing_email');
    expect(emailProblem(byRow.get(4)!.email!)?.code).toBe('invalid_email');
    expect(emailProblem(byRow.get(5)!.email!)?.code).toBe('invalid_email');
    expect(byRow.get(7)).toMatchObject({ givenName: '', familyName: '' });
    expect(nameProblem(byRow.get(8)!.givenName!, 'givenName')?.code).toBe('name_too_long');
    expect(byRow.get(10)!.role).toBe('Wizard');
    expect(byRow.get(11)!.location).toBe('Atlantis');
    expect(matchKey(byRow.get(12)!.email!)).toBe(matchKey(byRow.get(2)!.email!));
    expect(byRow.get(14)!.givenName).toBe('Linus Benedict');
    expect(file.records[11]!.cells[5]).toBe('=HYPERLINK("https://example.com/x","click")');
  });
});

describe('sniffFile', () => {
  const refused: [string, Buffer, string][] = [
    [
      'an .xlsx (ZIP)',
      Buffer.from('PK\x03\x04\x14\x00\x06\x00[Content_Types].xml', 'latin1'),
      'an Excel workbook (.xlsx) or ZIP archive',
    ],
    ['a gzip file', gzipSync('email,name\n'), 'a gzip-compressed file'],
    ['a bzip2 file', Buffer.from('BZh91AY&SY\x00\x01', 'latin1'), 'a bzip2-compressed file'],
    ['a 7z archive', Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]), 'a 7-Zip archive'],
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'a PDF document'],
    [
      'an .xls (OLE)',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]),
      'an old Excel workbook (.xls) or other Office document',
    ],
    ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'a PNG image'],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'a JPEG image'],
    ['a GIF', Buffer.from('GIF89a\x01\x00', 'latin1'), 'a GIF image'],
    ['binary with NUL bytes', Buffer.from('email,name\n\x00\x01\x02\x03abc', 'latin1'), 'binary data'],
    [
      'binary full of control bytes',
      Buffer.from('\x01\x02\x03\x04\x05\x06abcdefghij'.repeat(50), 'latin1'),
      'binary data',
    ],
    [
      'UTF-16 without a BOM',
      Buffer.from('email,name\r\na@example.com,A\r\n', 'utf16le'),
      'UTF-16 text without a byte order mark',
    ],
    ['UTF-32 with a BOM', Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0, 0x42, 0, 0, 0]), 'binary data'],
  ];

  it.each(refused)('refuses %s whatever its declared type', async (_what, bytes, detected) => {
    expect(await sniffFile(write('upload.bin', bytes))).toEqual({ ok: false, detected });
  });

  it.each([
    'excel-semicolon-bom.csv',
    'google-sheets-aliases.csv',
    'excel-legacy-windows1252.csv',
    'utf16le-tab.csv',
    'every-error.csv',
  ])('accepts %s', async (name) => expect(await sniffFile(fixture(name))).toEqual({ ok: true }));

  it('accepts text with a stray control character and a header that begins like bzip2', () => {
    expect(sniffBytes(Buffer.from('BZh_code,email\nline\x0bbreak,a@example.com\n'))).toEqual({ ok: true });
    expect(sniffBytes(Buffer.alloc(0))).toEqual({ ok: true });
  });
});

describe('detectEncoding and openDecoded', () => {
  const decoded = async (bytes: Buffer) => {
    const path = write('decode.csv', bytes);
    const encoding = await detectEncoding(path);
    return { encoding, text: (await openDecoded(path, encoding).toArray()).join('') };
  };

  it('trusts a BOM and removes it from the text', async () => {
    expect(await decoded(Buffer.from('\uFEFFé,a', 'utf8'))).toEqual({ encoding: 'utf-8-bom', text: 'é,a' });
    expect(await decoded(Buffer.from('\uFEFFé,a', 'utf16le'))).toEqual({ encoding: 'utf-16le', text: 'é,a' });
    const be = Buffer.from('\uFEFFé,a', 'utf16le').swap16();
    expect(await decoded(be)).toEqual({ encoding: 'utf-16be', text: 'é,a' });
  });

  it('keeps UTF-8 when a multi-byte character straddles a read chunk', async () => {
    const body = 'a'.repeat(65_535) + 'é' + 'b'.repeat(10);
    expect(await decoded(Buffer.from(body, 'utf8'))).toEqual({ encoding: 'utf-8', text: body });
  });

  it('reads a file that is not valid UTF-8 past its first chunk as Windows-1252', async () => {
    const bytes = Buffer.concat([Buffer.from('a'.repeat(100_000)), Buffer.from([0x80, 0x92, 0x81, 0xe9])]);
    const { encoding, text: body } = await decoded(bytes);
    expect(encoding).toBe('windows-1252');
    expect(body.slice(-4)).toBe('€’\u0081é');
  });

  it('decodes every Windows-1252 byte to a character, never U+FFFD, with the WHATWG table for 0x80–0x9F', () => {
    const all = decodeWindows1252(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    expect(all).toHaveLength(256);
    expect(all).not.toContain('\uFFFD');
    expect(all.slice(0x80, 0xa0)).toBe('€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ');
    expect(all.slice(0xa0)).toBe(
      Buffer.from(Array.from({ length: 96 }, (_, i) => 0xa0 + i)).toString('latin1'),
    );
  });
});

describe('readRecords', () => {
  it.each([
    [',', 'email,name,role\na@x.io,A,R\n'],
    [';', 'email;name;role\na@x.io;A;R\n'],
    ['\t', 'email\tname\trole\na@x.io\tA\tR\n'],
    ['|', 'email|name|role\na@x.io|A|R\n'],
    [';', '"Name, full";"E-mail, work";Role\n'],
    [',', 'a;b,c\n'],
    [';', 'a;b\tc\n'],
    ['\t', 'a\tb|c\n'],
    [',', 'email\n'],
  ])('detects %j from the header line of %j', async (delimiter, csv) => {
    const [header] = await collect(readRecords(text(csv)));
    expect(header).toMatchObject({ kind: 'header', row: 1, delimiter });
  });

  it('keeps a BOM out of the first header cell and reads CRLF, LF and lone CR alike', async () => {
    const events = await collect(readRecords(text('\uFEFFemail,name\r\na,A\n', 'b,B\r', 'c,C')));
    expect(events).toEqual([
      { kind: 'header', row: 1, delimiter: ',', cells: ['email', 'name'] },
      { kind: 'row', row: 2, cells: ['a', 'A'] },
      { kind: 'row', row: 3, cells: ['b', 'B'] },
      { kind: 'row', row: 4, cells: ['c', 'C'] },
    ]);
  });

  it('skips blank records but counts them, and counts a multi-line record as one row', async () => {
    const csv = 'email,name,role\n\n,,\n  ,\t,\n"a@x.io","Line\r\nTwo, ""quoted""",R\nb@x.io,B,R\n';
    expect((await collect(readRecords(text(csv)))).slice(1)).toEqual([
      { kind: 'row', row: 5, cells: ['a@x.io', 'Line\r\nTwo, "quoted"', 'R'] },
      { kind: 'row', row: 6, cells: ['b@x.io', 'B', 'R'] },
    ]);
  });

  it('passes over blank rows above the header, keeping their numbers', async () => {
    expect(await collect(readRecords(text('\r\n;;;\r\nemail;name\r\na;A\r\n')))).toEqual([
      { kind: 'header', row: 3, delimiter: ';', cells: ['email', 'name'] },
      { kind: 'row', row: 4, cells: ['a', 'A'] },
    ]);
  });

  it('reports records with another field count as malformed and reads on', async () => {
    const events = await collect(readRecords(text('a,b\n1\n1,2,3\n1,2\n')));
    expect(events.slice(1)).toEqual([
      {
        kind: 'malformed',
        row: 2,
        cells: ['1'],
        reason: expect.stringContaining('Row 2 has 1 field where the header has 2;'),
      },
      {
        kind: 'malformed',
        row: 3,
        cells: ['1', '2', '3'],
        reason: expect.stringContaining('Row 3 has 3 fields where the header has 2;'),
      },
      { kind: 'row', row: 4, cells: ['1', '2'] },
    ]);
  });

  it('keeps a stray quote inside an unquoted field as Excel does', async () => {
    const events = await collect(readRecords(text('name,email\nDwayne "The Rock" Johnson,d@x.io\n')));
    expect(events[1]).toEqual({ kind: 'row', row: 2, cells: ['Dwayne "The Rock" Johnson', 'd@x.io'] });
  });

  it('yields only the header for a header-only file and nothing for an empty or blank one', async () => {
    expect(await collect(readRecords(text('email,name\r\n')))).toHaveLength(1);
    expect(await collect(readRecords(text()))).toEqual([]);
    expect(await collect(readRecords(text('\r\n \r\n')))).toEqual([]);
  });

  it('throws unterminated_quote naming the row where the quote opened', async () => {
    const error = await collect(readRecords(text('email,name\na,A\nb,"B\nc,C\n'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvError);
    expect(error).toMatchObject({ code: 'unterminated_quote', row: 3, status: 422 });
    expect((error as Error).message).toContain('row 3');
  });

  it('stops at an unterminated quote after maxRecordBytes, not at the end of a huge file', async () => {
    let pulled = 0;
    async function* huge() {
      yield 'email,name\na,A\nb,"B\n';
      for (let i = 0; i < 100_000; i++, pulled++) yield 'c,C\n'.repeat(256);
    }
    const error = await collect(readRecords(Readable.from(huge()), { maxRecordBytes: 16_384 })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'unterminated_quote', row: 3, limit: 16_384 });
    expect(pulled).toBeLessThan(100);
  });

  it('throws record_too_large stating the limit, in the header as well', async () => {
    const long = `email,name\na,${'x'.repeat(2000)}\n`;
    await expect(collect(readRecords(text(long), { maxRecordBytes: 1000 }))).rejects.toMatchObject({
      code: 'record_too_large',
      row: 2,
      message: expect.stringContaining('1000 bytes'),
    });
    await expect(
      collect(readRecords(text('x'.repeat(2000)), { maxRecordBytes: 1000 })),
    ).rejects.toMatchObject({
      code: 'record_too_large',
      row: 1,
    });
  });
});
