import type { Db } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { releaseSlot, renewSlot, takeSlot } from './upload-slots.repository.js';

/** Seconds a refused upload is told to wait: a typical upload reads and stages within that. */
export const UPLOAD_RETRY_AFTER = 5;
/** A held slot is renewed this often while its upload runs... */
export const UPLOAD_SLOT_RENEW_MS = 10_000;
/** ...and no longer counts this long after its last renewal (its API process died). */
export const UPLOAD_SLOT_STALE_MS = 30_000;

interface SlotLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Takes one of the workspace's `max` upload slots, or throws 429 `too_many_uploads`; returns its
 * release. An upload holds a database connection for its whole staging, so without a cap a few slow
 * uploads of one tenant would hold an API process's pool. Slots are rows in Postgres, so the cap holds
 * across every API process; a process that dies stops renewing its slots, and they lapse.
 */
export async function takeUploadSlot(
  db: Db,
  workspaceId: string,
  max: number,
  log: SlotLogger,
): Promise<() => Promise<void>> {
  const id = newId();
  const { taken, held } = await takeSlot(db, workspaceId, id, max, UPLOAD_SLOT_STALE_MS);
  if (!taken) {
    throw new AppError(
      429,
      'too_many_uploads',
      `This workspace already has ${held} uploads being read or staged (at most ${max} at once); wait for one to be answered, then retry in ${UPLOAD_RETRY_AFTER} seconds.`,
      { limit: max },
      { 'retry-after': String(UPLOAD_RETRY_AFTER) },
    );
  }
  const renew = setInterval(() => {
    renewSlot(db, workspaceId, id).catch((err: unknown) =>
      log.warn({ err, workspaceId }, 'upload slot not renewed; it lapses if this goes on'),
    );
  }, UPLOAD_SLOT_RENEW_MS);
  renew.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(renew);
    // Not deleted (Postgres unreachable): the slot lapses once it is no longer renewed.
    await releaseSlot(db, workspaceId, id).catch((err: unknown) =>
      log.warn({ err, workspaceId }, 'upload slot not released; it lapses once no longer renewed'),
    );
  };
}
