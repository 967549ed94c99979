import { sql, type RawBuilder } from 'kysely';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/processes.js';
import { workbook, XLSX_TYPE } from '../support/workbooks.js';
import { FAULT_ROWS, HANG_MS, kill, newWorkspace, untilTerminal, useFaultEnv } from './harness.js';

const env = useFaultEnv();
/** Enough rows that the conversion takes a second or more, so the kill lands inside it. */
const ROWS = Math.max(FAULT_ROWS, 40_000);

const count = async (query: RawBuilder<{ n: number }>) => (await query.execute(env.db)).rows[0]!.n;

describe('a worker killed with SIGKILL while it converts an uploaded workbook', () => {
  it(
    'converts it again after a restart: every row once, nothing half-staged',
    async () => {
      const ws = await newWorkspace(env);
      const rows = Array.from({ length: ROWS }, (_, i) => [`wb-${i + 1}@example.com`, `wb ${i + 1}`]);
      const bytes = await workbook([{ name: 'People', rows: [['email', 'name'], ...rows] }]);
      await env.start('api');
      // Invitations off: the e-mail path under faults is worker-kill.test.ts's; this one is the conversion.
      const res = await env.api('/v1/imports?sendInvites=false', {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.token}`, 'content-type': XLSX_TYPE },
        body: bytes,
      });
      expect(res.status).toBe(202);
      const id = ((await res.json()) as { id: string }).id;

      // The conversion is one transaction staging rows: kill the worker while it is open.
      let worker = await env.start('worker');
      await waitFor(async () => {
        const converting = await count(sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = ${env.databaseName} and state <> 'idle' and xact_start is not null
            and query like '%insert into import_rows%'`);
        if (converting > 0) return true;
        const staged = await count(
          sql<{ n: number }>`select count(*)::int as n from import_rows where import_id = ${id}`,
        );
        if (staged > 0) throw new Error('the conversion committed before the kill; make ROWS larger');
        return false;
      }, HANG_MS);
      expect(await kill(worker)).toBeNull();
      // Nothing of the conversion committed: the workbook is still stored, no row is staged.
      expect(
        await count(
          sql<{ n: number }>`select count(*)::int as n from import_workbooks where import_id = ${id}`,
        ),
      ).toBeGreaterThan(0);
      expect(
        await count(sql<{ n: number }>`select count(*)::int as n from import_rows where import_id = ${id}`),
      ).toBe(0);

      worker = await env.start('worker');
      expect(await untilTerminal(env, id)).toBe('completed');
      const imp = (await (
        await env.api(`/v1/imports/${id}`, { headers: { authorization: `Bearer ${ws.token}` } })
      ).json()) as Record<string, unknown>;
      expect(imp).toMatchObject({
        totalRows: ROWS,
        processedRows: ROWS,
        counts: { created: ROWS, failed: 0, invited: 0 },
      });
      // Every row staged and reported once, with the sheet's row numbers; each user once.
      const staged = await sql<{ rows: number; numbers: number; users: number; min: number; max: number }>`
        select count(*)::int as rows, count(distinct row_number)::int as numbers,
               count(distinct user_id)::int as users, min(row_number)::int as min, max(row_number)::int as max
        from import_rows where import_id = ${id} and status = 'created'`.execute(env.db);
      expect(staged.rows[0]).toEqual({ rows: ROWS, numbers: ROWS, users: ROWS, min: 2, max: ROWS + 1 });
      expect(
        await count(sql<{ n: number }>`select count(distinct email_key)::int as n from users
          where workspace_id = ${ws.workspaceId} and deleted_at is null`),
      ).toBe(ROWS);
      expect(
        await count(
          sql<{ n: number }>`select count(*)::int as n from import_workbooks where import_id = ${id}`,
        ),
      ).toBe(0);
    },
    HANG_MS * 3,
  );
});
