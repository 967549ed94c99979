import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { createHash } from 'node:crypto';
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
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: { connect: async () => preparing(await pool.connect()), end: () => pool.end() },
    }),
  });
}

/**
 * Marks a hot read (a SCIM lookup an identity provider makes thousands of times) to run as a named
 * prepared statement: Postgres plans it once per connection instead of on every request (planning took
 * 0.28 ms of a 0.36 ms `userName eq` lookup on 100,000 users). Put it first in the statement's text.
 */
export const PREPARED = sql.raw('/* prepared */ ');
const MARK = '/* prepared */';
/** Prepared statements one connection keeps at most: a filter's shape is in the text, and shapes vary. */
const MAX_PREPARED = 200;
const prepared = Symbol('prepared statements');

type PreparingClient = pg.PoolClient & { [prepared]?: Set<string> };

/** Runs the marked statements of this client by name (pg parses each name once per connection). */
function preparing(client: PreparingClient): pg.PoolClient {
  if (client[prepared]) return client;
  const names = new Set<string>();
  client[prepared] = names;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && text.startsWith(MARK) && Array.isArray(values) && rest.length === 0) {
      const name = `p_${createHash('sha1').update(text).digest('base64url')}`;
      if (names.has(name) || names.size < MAX_PREPARED) {
        names.add(name);
        return query({ name, text, values });
      }
    }
    return query(text, values, ...rest);
  }) as typeof client.query;
  return client;
}

/**
 * ANALYZE of the tables a bulk import grows. Autovacuum would get there, later (or never, where it is
 * off); until then the planner has no statistics for a workspace that just received a million users.
 */
export async function refreshStatistics(db: Db, tables: ('users' | 'invitations' | 'group_memberships')[]) {
  for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}
