import { ScimError } from '../../lib/errors.js';
import { unstorableText } from '../../lib/text.js';

type Done = (error: Error | null, body?: unknown) => void;

/** Refuses, in the SCIM envelope, a parsed body holding text Postgres cannot store (see unstorableText). */
export const checkedText =
  (done: Done): Done =>
  (error, body) => {
    const bad = error ? undefined : unstorableText(body);
    if (bad === undefined) return done(error, body);
    return done(
      new ScimError(400, 'invalidValue', `The body contains ${bad}, which cannot be stored; remove it.`),
    );
  };
