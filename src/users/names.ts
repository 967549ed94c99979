import { badRequest } from '../lib/errors.js';
import { NAME_MAX, clean, matchKey } from '../lib/text.js';

/** Validates a role or location name: what is stored (trimmed) and the key it is unique by. */
export function checkedName(field: string, raw: unknown): { name: string; key: string } {
  if (typeof raw !== 'string' || clean(raw) === '') {
    throw badRequest('invalid_name', `${field} is required and must not be blank.`, { field });
  }
  const name = clean(raw);
  if ([...name].length > NAME_MAX) {
    throw badRequest('name_too_long', `${field} must be at most ${NAME_MAX} characters.`, { field });
  }
  if (hasControlCharacter(name)) {
    throw badRequest('invalid_name', `${field} must not contain control characters.`, { field });
  }
  return { name, key: matchKey(name) };
}

function hasControlCharacter(value: string): boolean {
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
