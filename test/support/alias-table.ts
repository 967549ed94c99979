import { FIELDS, HEADER_ALIASES, LANGUAGES } from '../../src/imports/pipeline/aliases.js';

/** docs/api.md's alias table, rendered from the alias table (test/imports-docs.test.ts keeps them equal). */

const LANGUAGE_NAMES = {
  en: 'English',
  de: 'German',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  nl: 'Dutch',
  pt: 'Portuguese',
} as const;

export function aliasTable(): string {
  return [
    '',
    `| field | ${LANGUAGES.map((l) => LANGUAGE_NAMES[l]).join(' | ')} |`,
    `| --- |${LANGUAGES.map(() => ' --- |').join('')}`,
    ...FIELDS.map(
      (field) =>
        `| \`${field}\` | ${LANGUAGES.map((l) =>
          HEADER_ALIASES[field][l].map((alias) => `\`${alias}\``).join(', '),
        ).join(' | ')} |`,
    ),
    '',
  ].join('\n');
}
