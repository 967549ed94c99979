/**
 * Text rules of the domain: names and e-mails are compared after Unicode NFC, trimming Unicode spaces and
 * case-folding; what was given is stored trimmed. The key is what unique indexes and lookups use.
 */
export const clean = (value: string): string => value.normalize('NFC').trim();

export const matchKey = (value: string): string => clean(value).toLowerCase();

/** A name (role, location, person) must be non-empty and at most 200 characters after trimming. */
export const NAME_MAX = 200;

// With the u flag a paired surrogate is one code point (not Cs): only unpaired halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What no Postgres text or jsonb value can hold, anywhere in a parsed JSON body (keys included): the NUL
 * character and unpaired UTF-16 surrogates (`"\ud800"`, which jsonb refuses). Returns a description of
 * the first one found, or undefined. Iterative, so a body nested 10,000 levels deep is no stack risk.
 */
export function unstorableText(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === 'string') {
      if (next.includes('\0')) return 'the NUL character (\\u0000)';
      if (LONE_SURROGATE.test(next)) return 'half of a UTF-16 surrogate pair (such as \\ud800 alone)';
    } else if (Array.isArray(next)) {
      for (const item of next) stack.push(item);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, item] of Object.entries(next)) stack.push(key, item);
    }
  }
  return undefined;
}

/** `value` without the slashes it ends with (a base URL's), in one pass from the end. */
export function trimTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value[end - 1] === '/') end -= 1;
  return value.slice(0, end);
}
