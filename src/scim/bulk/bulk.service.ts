import type { Db } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { enqueueBulk } from '../../queues/bulk.js';
import type { EnqueueLogger, Queues } from '../../queues/producer.js';
import { parseBulkRequest } from './envelope.js';
import * as repo from './bulk.repository.js';
import type { BulkOpResult } from './types.js';
import { scimBase } from '../schema/discovery.service.js';
import { SERVICE_PROVIDER_FEATURES } from '../schema/model.js';
import { BULK_RESPONSE } from '../schema/urns.js';
import type { ScimCaller } from '../resources/users.service.js';

export const BULK_LIMITS = SERVICE_PROVIDER_FEATURES.bulk;
/** Seconds a client is asked to wait before reading a request that is still running. */
export const BULK_RETRY_AFTER_SECONDS = 10;

export interface BulkDeps {
  db: Db;
  queues: Queues;
  log: EnqueueLogger;
  /** How long a request waits for its result before answering 503. */
  waitMs: number;
  /** True once the API is shutting down: a waiting request answers 503 at once. */
  closing?: () => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const bulkUrl = (publicUrl: string, id: string): string => `${scimBase(publicUrl)}/Bulk/${id}`;

/** The BulkResponse (RFC 7644 §3.7.3): the operations that ran, in request order. */
function render(results: Record<string, BulkOpResult>, publicUrl: string) {
  const base = scimBase(publicUrl);
  return {
    schemas: [BULK_RESPONSE],
    Operations: Object.entries(results)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, r]) => ({
        ...(r.id ? { location: `${base}/${r.resource}/${r.id}` } : {}),
        method: r.method,
        ...(r.bulkId !== undefined ? { bulkId: r.bulkId } : {}),
        ...(r.version !== undefined ? { version: r.version } : {}),
        status: r.status,
        ...(r.response ? { response: r.response } : {}),
      })),
  };
}

/**
 * Waits for the worker to finish the request (Postgres is the truth: polled, 50 ms apart at first),
 * then answers its BulkResponse; past the wait (or when the API shuts down), 503 with Retry-After while
 * the work goes on.
 */
async function awaitResult(deps: BulkDeps, caller: ScimCaller, id: string) {
  const started = Date.now();
  for (;;) {
    if ((await repo.bulkStatus(deps.db, caller.workspaceId, id)) === 'done') {
      const row = await repo.bulkResults(deps.db, caller.workspaceId, id);
      return render(row?.results ?? {}, caller.publicUrl);
    }
    const elapsed = Date.now() - started;
    if (elapsed >= deps.waitMs || deps.closing?.()) {
      const url = bulkUrl(caller.publicUrl, id);
      throw new ScimError(
        503,
        undefined,
        `The Bulk request ${id} is still running; its operations will all be carried out. Read its result at ${url} after ${BULK_RETRY_AFTER_SECONDS} seconds rather than sending it again.`,
        { 'retry-after': String(BULK_RETRY_AFTER_SECONDS), location: url },
      );
    }
    await sleep(Math.min(elapsed < 2_000 ? 50 : 250, deps.waitMs - elapsed));
  }
}

/** Validates the BulkRequest, stages it in Postgres, enqueues it (never blocking on Redis), waits. */
export async function submitBulk(deps: BulkDeps, caller: ScimCaller, body: unknown) {
  const request = parseBulkRequest(body, BULK_LIMITS.maxOperations);
  if (request.operations.length === 0) return render({}, caller.publicUrl);
  const id = newId();
  await repo.insertBulkRequest(deps.db, {
    workspaceId: caller.workspaceId,
    id,
    actor: caller.actor,
    failOnErrors: request.failOnErrors ?? null,
    operations: request.operations,
  });
  await enqueueBulk(deps.queues, deps.log, caller.workspaceId, id);
  return awaitResult(deps, caller, id);
}

/** A request answered 503 earlier: its result once done (waiting like the request did). */
export async function getBulk(deps: BulkDeps, caller: ScimCaller, id: string) {
  if (!isUuid(id) || !(await repo.bulkStatus(deps.db, caller.workspaceId, id)))
    throw new ScimError(404, undefined, `Bulk request ${id} not found (results are kept for 24 hours).`);
  return awaitResult(deps, caller, id);
}
