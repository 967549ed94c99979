/**
 * Text rules of the domain: names and e-mails are compared after Unicode NFC, trimming Unicode spaces and
 * case-folding; what was given is stored trimmed. The key is what unique indexes and lookups use.
 */
export const clean = (value: string): string => value.normalize('NFC').trim();

export const matchKey = (value: string): string => clean(value).toLowerCase();

/** A name (role, location, person) must be non-empty and at most 200 characters after trimming. */
export const NAME_MAX = 200;
