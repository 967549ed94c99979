import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

export type { Database } from './tables.js';
export type Db = Kysely<Database>;
export type DbOrTx = Kysely<Database> | Transaction<Database>;

// int8 (count(*), bigint sums) as number: every count this service makes fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export interface DbOptions {
  max?: number;
  applicationName?: string;
  /** Postgres cancels any statement of this pool's sessions running longer (57014); 0 or absent: never. */
  statementTimeoutMs?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'loopit-provision',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor may a checked-out one (the pool listens only to idle clients): a backend terminated between two
  // statements of a transaction emits 'error' with no query to reject. The next statement fails instead,
  // and the pool drops the client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * ANALYZE of the tables a bulk import grows. Autovacuum would get there, later (or never, where it is
 * off); until then the planner has no statistics for a workspace that just received a million users.
 */
export async function refreshStatistics(db: Db, tables: ('users' | 'invitations' | 'group_memberships')[]) {
  for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}
