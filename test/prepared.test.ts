import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PREPARED } from '../src/db/index.js';
import { findTokenByPrefix } from '../src/auth/tokens.repository.js';
import { prefixOf } from '../src/auth/tokens.js';
import { useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';

const ctx = useTestContext();

/** The prepared statements of the connection `db` runs on (a transaction: one connection). */
const preparedOf = async (db: typeof ctx.db) =>
  (
    await sql<{
      statement: string;
    }>`select statement from pg_prepared_statements order by prepare_time`.execute(db)
  ).rows.map((r) => r.statement);

describe('statements marked PREPARED', () => {
  it('run as one named prepared statement per connection, with their own parameters each time', async () => {
    const ws = await makeWorkspace(ctx.db);
    await ctx.db.connection().execute(async (conn) => {
      const first = await findTokenByPrefix(conn, prefixOf(ws.token)!);
      const second = await findTokenByPrefix(conn, 'no-such-prefix');
      expect(second).toBeUndefined();
      const statements = (await preparedOf(conn)).filter((s) => s.includes('from api_tokens'));
      expect(statements).toHaveLength(1);
      expect(statements[0]!.startsWith('/* prepared */')).toBe(true);
      expect(first?.workspace_id).toBe(ws.workspaceId);
    });
  });

  it('stop being prepared past 200 distinct texts on one connection, and still run', async () => {
    await ctx.db.connection().execute(async (conn) => {
      const before = (await preparedOf(conn)).length;
      for (let i = 0; i < 210; i++) {
        const { rows } = await sql<{
          n: number;
        }>`${PREPARED}select ${sql.raw(String(i))}::int + ${1}::int as n`.execute(conn);
        expect(rows[0]!.n).toBe(i + 1);
      }
      expect(before).toBeLessThan(10);
      expect(await preparedOf(conn)).toHaveLength(200);
    });
  });

  it('leave unmarked statements unprepared', async () => {
    await ctx.db.connection().execute(async (conn) => {
      await sql`select 987654 + ${1}::int as unmarked`.execute(conn);
      expect((await preparedOf(conn)).some((s) => s.includes('987654'))).toBe(false);
    });
  });
});
