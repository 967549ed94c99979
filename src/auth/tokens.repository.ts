import { sql } from 'kysely';
import { PREPARED, type DbOrTx } from '../db/index.js';
import type { ApiTokenRow, Scope } from '../db/tables.js';

/** Every request's token lookup: a prepared statement (see PREPARED). */
export async function findTokenByPrefix(db: DbOrTx, prefix: string): Promise<ApiTokenRow | undefined> {
  const { rows } = await sql<ApiTokenRow>`${PREPARED}
    select id, workspace_id, prefix, token_hash, scopes, name, created_at, last_used_at, revoked_at
    from api_tokens where prefix = ${prefix}`.execute(db);
  return rows[0];
}

export async function insertToken(
  db: DbOrTx,
  row: { workspaceId: string; prefix: string; hash: Buffer; scopes: Scope[]; name: string | null },
): Promise<{ id: string; created_at: Date }> {
  return db
    .insertInto('api_tokens')
    .values({
      workspace_id: row.workspaceId,
      prefix: row.prefix,
      token_hash: row.hash,
      scopes: row.scopes,
      name: row.name,
    })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
}

/** Writes last_used_at only when it is unset or older than a minute, so hot tokens cost no write. */
export async function touchToken(db: DbOrTx, id: string): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date() })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]),
    )
    .execute();
}

export async function revokeTokenByPrefix(
  db: DbOrTx,
  prefix: string,
): Promise<{ revoked: boolean; found: boolean }> {
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'revoked_at'])
    .where('prefix', '=', prefix)
    .executeTakeFirst();
  if (!row) return { revoked: false, found: false };
  if (row.revoked_at) return { revoked: false, found: true };
  await db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('id', '=', row.id).execute();
  return { revoked: true, found: true };
}
