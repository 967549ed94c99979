import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/index.js';
import { runBatch } from './batch.js';
import type { EngineLogger, ProvisionItem, ProvisionOptions, ProvisionResult } from './types.js';

export type { ProvisionItem, ProvisionOptions, ProvisionResult } from './types.js';

const internalError = (item: ProvisionItem): ProvisionResult => ({
  key: item.key,
  status: 'failed',
  errorCode: 'internal_error',
  errorMessage:
    'This item could not be processed because of an unexpected error; retry it or contact support.',
  invitation: null,
});

/**
 * Runs inside each batch's transaction after the engine's own writes, with the batch's results: the
 * CSV import writes its row statuses and counters here, so they commit together with the users.
 */
export type InTransaction = (
  tx: Transaction<Database>,
  items: ProvisionItem[],
  results: ProvisionResult[],
) => Promise<void>;

/**
 * The provisioning engine: one result per item, same order. A batch runs in one transaction; item
 * failures are results, never exceptions. An unexpected error fails the batch's transaction; the batch
 * is then bisected to isolate the failing item(s), which get `internal_error`, and the rest go on.
 */
export async function provision(
  db: Db,
  workspaceId: string,
  items: ProvisionItem[],
  opts: ProvisionOptions,
  log?: EngineLogger,
  inTransaction?: InTransaction,
): Promise<ProvisionResult[]> {
  if (items.length === 0) return [];
  const attempt = (batch: ProvisionItem[]) =>
    opts.dryRun && !inTransaction
      ? runBatch(db, workspaceId, batch, opts)
      : db.transaction().execute(async (tx) => {
          const results = await runBatch(tx, workspaceId, batch, opts);
          if (inTransaction) await inTransaction(tx, batch, results);
          return results;
        });

  const run = async (batch: ProvisionItem[], retries = 3): Promise<ProvisionResult[]> => {
    try {
      return await attempt(batch);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Lost connections and server shutdowns are the infrastructure's, not an item's: let the caller retry.
      if (typeof code !== 'string' || /^(08|57P0|53)/.test(code)) throw error;
      if ((code === '40P01' || code === '40001') && retries > 0) return run(batch, retries - 1);
      if (batch.length === 1) {
        log?.error(
          { err: error, source: opts.source, key: batch[0]!.key },
          'provisioning item failed unexpectedly',
        );
        const failed = [internalError(batch[0]!)];
        // The caller's bookkeeping (a CSV row's status) must still record the failure.
        if (inTransaction) await db.transaction().execute((tx) => inTransaction(tx, batch, failed));
        return failed;
      }
      log?.warn(
        { err: error, source: opts.source, size: batch.length },
        'provisioning batch failed; bisecting',
      );
      const middle = Math.ceil(batch.length / 2);
      return [...(await run(batch.slice(0, middle))), ...(await run(batch.slice(middle)))];
    }
  };
  return run(items);
}
