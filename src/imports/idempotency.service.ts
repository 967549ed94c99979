import type { Db } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { claimKey, releaseKey, type KeyRow } from './idempotency.repository.js';

export type { KeyRow } from './idempotency.repository.js';

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Claims an Idempotency-Key (per workspace, 24 hours). Returns undefined when this request now holds
 * it, or the finished request that holds it (the caller compares fingerprints). 409 while the first
 * request still runs.
 */
export async function claimIdempotencyKey(
  db: Db,
  workspaceId: string,
  key: unknown,
): Promise<KeyRow | undefined> {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new AppError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters.',
    );
  }
  const claim = await claimKey(db, workspaceId, key);
  if (claim.claimed) return undefined;
  if (claim.holder.state === 'in_progress') {
    throw new AppError(
      409,
      'idempotency_key_in_progress',
      'A request with this Idempotency-Key is still running; wait for it to finish, then retry.',
    );
  }
  return claim.holder;
}

/** A refused request stores nothing: its claim goes. */
export const releaseIdempotencyKey = (db: Db, workspaceId: string, key: string): Promise<void> =>
  releaseKey(db, workspaceId, key);
