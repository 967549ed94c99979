import { NAME_MAX, clean, matchKey } from '../lib/text.js';

export interface Problem {
  code: string;
  message: string;
  field: string;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * RFC 5321 mailbox with an ASCII dot-atom local part (at most 64 octets) and a domain of at least two
 * labels; the whole at most 254 octets. Quoted local parts, address literals and internationalised
 * addresses are refused. '+tags' and dots are kept: they are different mailboxes.
 */
export function emailProblem(raw: string, field = 'email'): Problem | undefined {
  const value = clean(raw);
  const invalid = (why: string): Problem => ({
    code: 'invalid_email',
    field,
    message: `'${value}' is not a valid e-mail address (${why}).`,
  });
  if (value === '') return { code: 'missing_email', field, message: `${field} is required.` };
  if (/[^\x21-\x7e]/.test(value)) return invalid('only ASCII letters, digits and symbols, no spaces');
  if (value.length > 254) return invalid('longer than 254 characters');
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return invalid("it needs one '@' with text on both sides");
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64) return invalid('the part before @ is longer than 64 characters');
  const atoms = local.split('.');
  if (atoms.some((a) => a === '' || !ATEXT.test(a)))
    return invalid('the part before @ has a character or dot that is not allowed');
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => !LABEL.test(l))) return invalid('the domain is not valid');
  if (/^\d+$/.test(labels[labels.length - 1]!)) return invalid('the domain is not valid');
  return undefined;
}

/** Names: at most 200 characters after trimming; a newline inside is folded to a space. */
export function cleanName(raw: string): string {
  return clean(raw.replace(/[\r\n\t]+/g, ' ').replace(/ {2,}/g, ' '));
}

export function nameProblem(value: string, field: string): Problem | undefined {
  if ([...value].length > NAME_MAX) {
    return { code: 'name_too_long', field, message: `${field} is longer than ${NAME_MAX} characters.` };
  }
  if (value.includes('\uFFFD')) {
    return {
      code: 'invalid_name',
      field,
      message: `${field} contains characters that could not be decoded.`,
    };
  }
  return undefined;
}

export { clean, matchKey };
