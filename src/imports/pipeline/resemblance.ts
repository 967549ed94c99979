import { distance } from 'fastest-levenshtein';
import { ALIAS_KEYS, FIELDS, HEADER_ALIASES, LANGUAGES, headerWords, type Field } from './aliases.js';

/**
 * Whether a header that no field reads looks like one of the fields, for the `column_not_used`
 * warning and the suggestions of a 422 `missing_columns`: a word of it (or a run of words) is an
 * alias, as in "Job role"; or the whole header is a close misspelling of an alias, as in "Emial".
 */

export interface Resemblance {
  field: Field;
  /** The alias key it resembles. */
  alias: string;
  how: 'word' | 'misspelling';
}

/** Headers longer than this, as a key, resemble nothing: no alias is half as long. */
const MAX_KEY = 64;

const MAX_ALIAS_WORDS = Math.max(
  ...FIELDS.flatMap((f) => LANGUAGES.flatMap((l) => HEADER_ALIASES[f][l].map((a) => headerWords(a).length))),
);

/**
 * Edits allowed between a header and an alias, by the alias key's length: none under 5 characters
 * (`note` is one letter from `nome`, `size` from `site`), one from 5 to 8 (a swap of two neighbours
 * counts as one), two from 9 on. A misspelling also keeps the alias's first and last letters, which
 * typing rarely gets wrong (`locale` is one letter from `local` and is no misspelling of it).
 */
export const misspellingEdits = (aliasLength: number): number =>
  aliasLength >= 9 ? 2 : aliasLength >= 5 ? 1 : 0;

/** `a` is `b` with exactly one pair of neighbouring letters swapped (`emial` / `email`). */
function swapped(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i + 1 < a.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** The alias the whole header is a close misspelling of: the fewest edits, first and last letters kept. */
function misspelt(key: string): Resemblance | undefined {
  let best: (Resemblance & { edits: number }) | undefined;
  for (const [alias, field] of ALIAS_KEYS) {
    const allowed = misspellingEdits(alias.length);
    if (allowed === 0 || Math.abs(alias.length - key.length) > allowed) continue;
    if (key[0] !== alias[0] || key.at(-1) !== alias.at(-1)) continue;
    const edits = swapped(key, alias) ? 1 : distance(key, alias);
    if (edits <= allowed && (!best || edits < best.edits)) best = { field, alias, how: 'misspelling', edits };
  }
  return best && { field: best.field, alias: best.alias, how: best.how };
}

export function resemblance(cell: string): Resemblance | undefined {
  const words = headerWords(cell);
  const key = words.join('');
  if (key === '' || key.length > MAX_KEY) return undefined;
  // The whole header misspelt ("Frist Name") says more than one of its words ("Name").
  const whole = misspelt(key);
  if (whole) return whole;
  // The longest run of words that is an alias wins, then the leftmost: "First Name [Required]" is givenName.
  for (let size = Math.min(MAX_ALIAS_WORDS, words.length); size >= 1; size--) {
    for (let i = 0; i + size <= words.length; i++) {
      const run = words.slice(i, i + size).join('');
      const field = ALIAS_KEYS.get(run);
      if (field) return { field, alias: run, how: 'word' };
    }
  }
  return undefined;
}
