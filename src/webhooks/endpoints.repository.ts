import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { WebhookDisabledReason } from '../db/tables.js';

/** What the API shows of an endpoint; never the secret. */
const publicColumns = [
  'workspace_id',
  'id',
  'url',
  'description',
  'event_types',
  'enabled',
  'disabled_reason',
  'disabled_at',
  'failing_since',
  'failure_streak',
  'paused_until',
  'created_at',
  'updated_at',
] as const;

export interface EndpointRecord {
  workspace_id: string;
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  disabled_reason: WebhookDisabledReason | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  failure_streak: number;
  paused_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertEndpoint(
  db: DbOrTx,
  row: {
    workspace_id: string;
    id: string;
    url: string;
    description: string | null;
    event_types: string[];
    secret_ciphertext: Buffer;
    secret_key_id: string;
    feed_cursor: string | null;
    created_by: string;
  },
): Promise<EndpointRecord> {
  return db.insertInto('webhook_endpoints').values(row).returning(publicColumns).executeTakeFirstOrThrow();
}

/** Serialises changes to the set of a workspace's endpoints, for the rest of the transaction. */
export async function lockWorkspaceEndpoints(tx: DbOrTx, workspaceId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`webhooks:${workspaceId}`}))`.execute(tx);
}

export function countEndpoints(db: DbOrTx, workspaceId: string): Promise<number> {
  return db
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow()
    .then((r) => r.n);
}

export function listEndpoints(
  db: DbOrTx,
  workspaceId: string,
  limit: number,
  afterId?: string,
): Promise<EndpointRecord[]> {
  let q = db.selectFrom('webhook_endpoints').select(publicColumns).where('workspace_id', '=', workspaceId);
  if (afterId) q = q.where('id', '>', afterId);
  return q.orderBy('id').limit(limit).execute();
}

export function findEndpoint(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<EndpointRecord | undefined> {
  const q = db
    .selectFrom('webhook_endpoints')
    .select(publicColumns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id);
  return (options.lock ? q.forUpdate() : q).executeTakeFirst();
}

export interface EndpointChanges {
  url?: string;
  description?: string | null;
  event_types?: string[];
  /** true: enabled again, its failure record cleared; false: disabled by a person. */
  enabled?: boolean;
}

export async function updateEndpoint(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  changes: EndpointChanges,
): Promise<EndpointRecord | undefined> {
  const { enabled, ...rest } = changes;
  const state =
    enabled === true
      ? {
          enabled: true,
          disabled_reason: null,
          disabled_at: null,
          failing_since: null,
          failure_streak: 0,
          paused_until: null,
          next_due_at: sql<Date>`now()`,
        }
      : enabled === false
        ? { enabled: false, disabled_reason: 'manual' as const, disabled_at: sql<Date>`now()` }
        : {};
  return db
    .updateTable('webhook_endpoints')
    .set({ ...rest, ...state, updated_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(publicColumns)
    .executeTakeFirst();
}

export async function deleteEndpoint(db: DbOrTx, workspaceId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('webhook_endpoints')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A person asked for a delivery now (a test, a retry): the workers' tick sees it even if Redis did not. */
export async function markDue(db: DbOrTx, workspaceId: string, id: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ next_due_at: sql<Date>`least(coalesce(next_due_at, now()), now())` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Workspaces that have an enabled endpoint, in id order after `after`. */
export async function workspacesWithEndpoints(db: DbOrTx, limit: number, after?: string): Promise<string[]> {
  let q = db.selectFrom('webhook_endpoints').select('workspace_id').distinct().where('enabled', '=', true);
  if (after) q = q.where('workspace_id', '>', after);
  const rows = await q.orderBy('workspace_id').limit(limit).execute();
  return rows.map((r) => r.workspace_id);
}

/** Endpoints with a delivery due by now, soonest first. */
export function dueEndpoints(db: DbOrTx, limit: number): Promise<{ workspace_id: string; id: string }[]> {
  return db
    .selectFrom('webhook_endpoints')
    .select(['workspace_id', 'id'])
    .where('next_due_at', '<=', sql<Date>`now()`)
    .orderBy('next_due_at')
    .limit(limit)
    .execute();
}
