import { ScimError } from '../../lib/errors.js';

/** If-Match: the version it names; '*' or no header: none; anything else can never match (412). */
export function versionOf(ifMatch: string | undefined, what: string): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const m = /^(?:W\/)?"(\d{1,9})"$/.exec(ifMatch.trim());
  if (!m)
    throw new ScimError(
      412,
      undefined,
      `If-Match ${ifMatch} names no version of this ${what}; read it again and send its ETag.`,
    );
  return Number(m[1]);
}

/** If-None-Match on a GET: true when it names the current version (or '*'), so 304 answers. */
export const notModified = (ifNoneMatch: string | undefined, version: string): boolean =>
  !!ifNoneMatch && ifNoneMatch.split(',').some((v) => v.trim() === version || v.trim() === '*');

export const weakEtag = (version: number): string => `W/"${version}"`;
