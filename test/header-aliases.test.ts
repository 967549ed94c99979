import { describe, expect, it } from 'vitest';
import {
  ALIAS_KEYS,
  FIELDS,
  HEADER_ALIASES,
  LANGUAGES,
  headerKey,
  type Field,
} from '../src/imports/pipeline/aliases.js';
import { resolveHeader } from '../src/imports/pipeline/mapping.js';
import { misspellingEdits, resemblance } from '../src/imports/pipeline/resemblance.js';

/** Every alias of the table, with its field and language: the tests below are generated from it. */
const EVERY_ALIAS = FIELDS.flatMap((field) =>
  LANGUAGES.flatMap((language) =>
    HEADER_ALIASES[field][language].map((alias) => ({ field, language, alias })),
  ),
);

/** Ways exports spell one header: case, spaces, punctuation, accents dropped or decomposed (macOS). */
const spellings = (alias: string): string[] => [
  alias,
  alias.toUpperCase(),
  alias.toLowerCase(),
  `  ${alias.replaceAll(' ', '_')} `,
  alias.replaceAll(' ', '-'),
  alias.normalize('NFD'),
  alias.normalize('NFD').replace(/\p{M}/gu, ''),
];

describe('the header alias table', () => {
  it('covers every field in every language', () => {
    for (const field of FIELDS)
      for (const language of LANGUAGES) expect(HEADER_ALIASES[field][language].length).toBeGreaterThan(0);
  });

  it('gives each normalised header to one field only', () => {
    const owners = new Map<string, Set<Field>>();
    for (const { field, alias } of EVERY_ALIAS) {
      const key = headerKey(alias);
      owners.set(key, (owners.get(key) ?? new Set()).add(field));
    }
    const shared = [...owners].filter(([, fields]) => fields.size > 1);
    expect(shared).toEqual([]);
    expect(ALIAS_KEYS.size).toBe(owners.size);
  });

  it.each(EVERY_ALIAS)('reads $field from "$alias" ($language) however it is spelt', ({ field, alias }) => {
    for (const spelling of spellings(alias)) {
      const resolved = resolveHeader([spelling]);
      expect(resolved.fields, spelling).toEqual({ [field]: 0 });
      expect(resolved.sources).toEqual({ [field]: 'alias' });
      expect(resolved.warnings).toEqual([]);
    }
  });

  it.each(EVERY_ALIAS)(
    'warns about "$alias" ($language) inside a longer header as $field',
    ({ field, alias }) => {
      expect(resemblance(`Previous ${alias}`)).toMatchObject({ field, how: 'word' });
    },
  );

  it.each(EVERY_ALIAS.filter(({ alias }) => misspellingEdits(headerKey(alias).length) > 0))(
    'warns about "$alias" ($language) with two letters swapped as $field',
    ({ field, alias }) => {
      const key = headerKey(alias);
      const middle = Math.floor(key.length / 2);
      const typo = key.slice(0, middle - 1) + key[middle] + key[middle - 1] + key.slice(middle + 1);
      if (typo === key) return; // a doubled letter: swapping changes nothing
      expect(resemblance(typo)).toMatchObject({ field, how: 'misspelling' });
    },
  );
});

describe('headers that look like a field', () => {
  it.each([
    ['Job role', 'role', 'word'],
    ['Emial', 'email', 'misspelling'],
    ['Frist Name', 'givenName', 'misspelling'],
    ['First Name [Required]', 'givenName', 'word'],
    ['Manager Email', 'email', 'word'],
    ['jobRole', 'role', 'word'],
    ['Lokation', 'location', 'misspelling'],
    ['E-Mail-Adresse des Vorgesetzten', 'email', 'word'],
  ])('"%s" looks like %s', (header, field, how) => {
    const found = resemblance(header);
    expect(found?.field).toBe(field);
    expect(found?.how).toBe(how);
  });

  it.each([
    'Notes',
    'Note',
    'Size',
    'Emai',
    'Date',
    'Start date',
    'Department',
    'Username',
    'Employee ID',
    'Phone',
    'Title',
    'Status',
    'Team',
    'Manager',
    'Country',
    'Locale',
    'Salary',
    'Personalnummer',
    'Abteilung',
    'Matricule',
    'Departamento',
    'Reparto',
    'Afdeling',
    'Matrícula',
    '',
    'x'.repeat(5000),
  ])('"%s" looks like no field', (header) => {
    expect(resemblance(header)).toBeUndefined();
  });
});
