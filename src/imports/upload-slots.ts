import { AppError } from '../lib/errors.js';

/** Seconds a refused upload is told to wait: a typical upload reads and stages within that. */
export const UPLOAD_RETRY_AFTER = 5;

/**
 * Uploads each workspace has reading or staging in this process. An upload holds a database connection
 * for its whole staging, so without a cap a few slow uploads of one tenant would hold the API's pool.
 * The count is per process because the pool is: N API processes let a workspace stage N × the cap.
 */
const held = new Map<string, number>();

/** Takes one of the workspace's `max` upload slots, or throws 429 `too_many_uploads`; returns its release. */
export function takeUploadSlot(workspaceId: string, max: number): () => void {
  const now = held.get(workspaceId) ?? 0;
  if (now >= max) {
    throw new AppError(
      429,
      'too_many_uploads',
      `This workspace already has ${now} uploads being read; wait for one to be answered, then retry in ${UPLOAD_RETRY_AFTER} seconds.`,
      { limit: max },
      { 'retry-after': String(UPLOAD_RETRY_AFTER) },
    );
  }
  held.set(workspaceId, now + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(workspaceId) ?? 1) - 1;
    if (left > 0) held.set(workspaceId, left);
    else held.delete(workspaceId);
  };
}
