import { describe, expect, it } from 'vitest';
import type { Field } from '../src/imports/pipeline/aliases.js';
import { resolveHeader, storedHeader } from '../src/imports/pipeline/mapping.js';
import { parseOptions } from '../src/imports/options.js';

const saved = (entries: [string, Field][]) => new Map(entries);

const invalid = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as { status: number; code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected invalid_mapping');
};

describe('resolveHeader', () => {
  it('takes the mapping option over saved mappings, and saved mappings over aliases', () => {
    const header = ['Mail', 'E-mail', 'Nom', 'Job role', 'Role'];
    const resolved = resolveHeader(header, {
      explicit: { email: 'mail', name: 'Nom' },
      saved: saved([
        ['email', 'email'],
        ['jobrole', 'role'],
      ]),
    });
    expect(resolved.fields).toEqual({ email: 0, name: 2, role: 3 });
    expect(resolved.sources).toEqual({ email: 'explicit', name: 'explicit', role: 'saved' });
    expect(resolved.missing).toEqual([]);
    expect(resolved.warnings.map((w) => [w.column, w.field])).toEqual([
      ['E-mail', 'email'],
      ['Role', 'role'],
    ]);
    expect(resolved.warnings[1]!.message).toContain("(read from 'Job role')");
  });

  it('reads nothing from an ignored column, alias or not, and does not warn about it', () => {
    const resolved = resolveHeader(['Email', 'Name', 'Role', 'Manager Email'], {
      ignore: ['role', 'Manager Email'],
    });
    expect(resolved.fields).toEqual({ email: 0, name: 1 });
    expect(resolved.warnings).toEqual([]);
  });

  it('warns about "Job role" and suggests it nowhere when nothing is missing', () => {
    const resolved = resolveHeader(['Email', 'Name', 'Job role']);
    expect(resolved.warnings).toEqual([
      {
        code: 'column_not_used',
        column: 'Job role',
        field: 'role',
        message: expect.stringContaining('{"role":"Job role"}'),
      },
    ]);
    expect(resolved.suggestions).toEqual({});
  });

  it('suggests a misspelt column for a missing field', () => {
    const resolved = resolveHeader(['Emial', 'Full Name']);
    expect(resolved.missing).toEqual(['email']);
    expect(resolved.suggestions).toEqual({ email: 'Emial' });
    expect(resolved.headers).toEqual(['Emial', 'Full Name']);
  });

  it('suggests the one name part found as the full name ("Mail", "Nom", "Rolle")', () => {
    const resolved = resolveHeader(['Mail', 'Nom', 'Rolle']);
    expect(resolved.fields).toEqual({ email: 0, familyName: 1, role: 2 });
    expect(resolved.missing).toEqual(['givenName']);
    expect(resolved.suggestions).toEqual({ name: 'Nom' });
    const mapped = resolveHeader(['Mail', 'Nom', 'Rolle'], { explicit: { name: 'Nom' } });
    expect(mapped.fields).toEqual({ email: 0, name: 1, role: 2 });
    expect(mapped.missing).toEqual([]);
  });

  it('does not let a report column be named', () => {
    const header = ['Email', 'Name', 'row', 'status', 'invitation', 'error_code', 'error_message', 'user_id'];
    expect(invalid(() => resolveHeader(header, { explicit: { role: 'status' } })).code).toBe(
      'invalid_mapping',
    );
  });

  it.each([
    [{ explicit: { email: 'Mail' } }, "mapping.email names 'Mail', which is not a column", 'Mail'],
    [{ ignore: ['Notes'] }, "ignore names 'Notes', which is not a column", 'Notes'],
    [{ explicit: { email: 'Email', name: 'email' } }, 'mapped to both email and name', 'email'],
    [{ explicit: { role: 'Role' }, ignore: ['Role'] }, 'both mapped to role and in ignore', 'Role'],
    [{ explicit: { location: 'Site' } }, 'the file has 2 columns by that name (columns 3, 4)', 'Site'],
    [{ explicit: { location: '  ' } }, 'mapping.location is an empty header name', undefined],
  ])('refuses %j: 400 invalid_mapping naming the problem', (choices, message, header) => {
    const error = invalid(() => resolveHeader(['Email', 'Name', 'Site', 'Site', 'Role'], choices));
    expect(error).toMatchObject({ status: 400, code: 'invalid_mapping' });
    expect(error.message).toContain(message);
    if (header)
      expect(error.details).toMatchObject({ header, headers: ['Email', 'Name', 'Site', 'Site', 'Role'] });
  });

  it('picks the exact cell before the same name spelt differently', () => {
    expect(resolveHeader(['E-mail', 'Email', 'Name'], { explicit: { email: 'Email' } }).fields.email).toBe(1);
    expect(
      invalid(() => resolveHeader(['E-mail', 'Email', 'Name'], { explicit: { email: 'EMAIL' } })),
    ).toMatchObject({
      code: 'invalid_mapping',
    });
  });
});

describe('storedHeader', () => {
  it('applies the indexes recorded at the upload to the header read again', () => {
    expect(storedHeader(['Mail', 'Nom', 'Extra'], { email: 0, name: 1 })).toEqual({
      fields: { email: 0, name: 1 },
      inputColumns: ['Mail', 'Nom', 'Extra'],
      inputIndexes: [0, 1, 2],
      missing: [],
    });
  });
});

describe('the mapping, ignore and sheet options', () => {
  it('parses them from form fields or the query string', () => {
    const options = parseOptions({
      mapping: '{"role": "Job role", "email": "Mail"}',
      ignore: '["Notes"]',
      sheet: ' People ',
    });
    expect(options).toMatchObject({
      mapping: { email: 'Mail', role: 'Job role' },
      ignore: ['Notes'],
      sheet: 'People',
    });
    expect(parseOptions({})).toMatchObject({ mapping: null, ignore: null, sheet: null });
  });

  it.each([
    ['mapping', '{"email": "Mail"', 'mapping is not valid JSON'],
    ['mapping', '["Mail"]', 'mapping must be a JSON object'],
    ['mapping', '{"mail": "Mail"}', "mapping names 'mail', which is not a field"],
    ['mapping', '{"email": 3}', 'mapping.email must be a column name'],
    ['mapping', '{"email": ""}', 'mapping.email is an empty header name'],
    ['mapping', '{"email": "Mail", "name": " Mail "}', "the column ' Mail ' for both email and name"],
    ['ignore', '"Notes"', 'ignore must be a JSON array'],
    ['ignore', '["Notes", "Notes"]', "ignore names 'Notes' twice"],
    ['ignore', '[""]', 'ignore[0] is an empty header name'],
    ['ignore', 'Notes', 'ignore is not valid JSON'],
  ])('refuses %s=%s with invalid_mapping', (name, value, message) => {
    const error = invalid(() => parseOptions({ [name]: value }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_mapping' });
    expect(error.message).toContain(message);
  });
});
