import { badRequest } from '../lib/errors.js';
import { isUuid } from '../lib/ids.js';

/** A place in the feed: the transaction that wrote an audit event (xid8, as decimal text) and its id. */
export interface Position {
  tx: string;
  id: string;
}

const MAX_XID8 = 2n ** 64n - 1n;

/** Cursors are opaque to callers: base64url of `<tx>:<id>`. */
export const encodeCursor = (p: Position): string => Buffer.from(`${p.tx}:${p.id}`).toString('base64url');

/** The position a cursor names, or 400 `invalid_cursor` for anything this feed did not issue. */
export function decodeCursor(raw: string, field = 'after'): Position {
  const text = raw.length <= 100 ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const colon = text.indexOf(':');
  const tx = text.slice(0, colon);
  const id = text.slice(colon + 1).toLowerCase();
  const valid =
    colon > 0 &&
    tx.length <= 20 &&
    /^\d+$/.test(tx) &&
    BigInt(tx) <= MAX_XID8 &&
    isUuid(id) &&
    encodeCursor({ tx: BigInt(tx).toString(), id }) === raw;
  if (!valid) {
    throw badRequest(
      'invalid_cursor',
      `${field} is not a cursor of this feed; pass the next of a previous page unchanged, or leave ${field} out to start from the oldest event kept.`,
      { field },
    );
  }
  return { tx: BigInt(tx).toString(), id };
}

/** Commit order: by transaction, then by id. */
export function comparePositions(a: Position, b: Position): number {
  const ta = BigInt(a.tx);
  const tb = BigInt(b.tx);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
