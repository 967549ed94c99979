import type { DbOrTx } from '../db/index.js';
import type { Scope } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import { generateToken, hashToken, prefixOf, sameHash } from './tokens.js';
import { findTokenByPrefix, insertToken, revokeTokenByPrefix, touchToken } from './tokens.repository.js';

export interface Caller {
  workspaceId: string;
  tokenId: string;
  tokenPrefix: string;
  scopes: Scope[];
}

export async function createToken(
  db: DbOrTx,
  workspaceId: string,
  scopes: Scope[],
  name: string | null = null,
): Promise<{ token: string; prefix: string; scopes: Scope[]; id: string }> {
  const unique = [...new Set(scopes)];
  const generated = generateToken();
  const row = await insertToken(db, {
    workspaceId,
    prefix: generated.prefix,
    hash: generated.hash,
    scopes: unique,
    name,
  });
  return { token: generated.token, prefix: generated.prefix, scopes: unique, id: row.id };
}

export async function revokeToken(
  db: DbOrTx,
  prefix: string,
): Promise<'revoked' | 'already_revoked' | 'not_found'> {
  const result = await revokeTokenByPrefix(db, prefix);
  for (const [key, entry] of recent) if (entry.caller.tokenPrefix === prefix) recent.delete(key);
  if (!result.found) return 'not_found';
  return result.revoked ? 'revoked' : 'already_revoked';
}

const invalidToken = (): AppError =>
  new AppError(
    401,
    'invalid_token',
    'The bearer token is unknown or revoked; create a new token with the CLI.',
    {},
    {
      'www-authenticate': 'Bearer error="invalid_token"',
    },
  );

// last_used_at is written at most once a minute per token; this process remembers its own writes so a
// busy token costs no query at all between them.
const lastTouched = new Map<string, number>();

/**
 * Tokens this process checked in the last TOKEN_CACHE_MS, by hash (never the token itself): an identity
 * provider's burst of requests costs one lookup, not one per request. A revocation reaches this process
 * at once, other processes within TOKEN_CACHE_MS.
 */
export const TOKEN_CACHE_MS = 5_000;
const recent = new Map<string, { caller: Caller; until: number }>();

const perRequest = new WeakMap<object, { token: string; caller: Promise<Caller> }>();

/**
 * `authenticate`, once per request: the rate limiter (which buckets by token) and the auth hook share one
 * check of the same token instead of hashing and looking it up twice.
 */
export function authenticateRequest(db: DbOrTx, token: string, request: object): Promise<Caller> {
  const seen = perRequest.get(request);
  if (seen?.token === token) return seen.caller;
  const caller = authenticate(db, token);
  caller.catch(() => undefined); // whoever awaits it sees the rejection; this copy must not be unhandled
  perRequest.set(request, { token, caller });
  return caller;
}

export async function authenticate(db: DbOrTx, token: string): Promise<Caller> {
  const prefix = prefixOf(token);
  if (!prefix) throw invalidToken();
  const hash = hashToken(token);
  const key = hash.toString('base64');
  const now = Date.now();
  const cached = recent.get(key);
  if (cached && cached.until > now) return cached.caller;
  const row = await findTokenByPrefix(db, prefix);
  if (!row || row.revoked_at || !sameHash(row.token_hash, hash)) throw invalidToken();
  if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
    lastTouched.set(row.id, now);
    if (lastTouched.size > 10_000) lastTouched.clear();
    await touchToken(db, row.id);
  }
  const caller = {
    workspaceId: row.workspace_id,
    tokenId: row.id,
    tokenPrefix: row.prefix,
    scopes: row.scopes,
  };
  if (recent.size >= 10_000) recent.clear();
  recent.set(key, { caller, until: now + TOKEN_CACHE_MS });
  return caller;
}
