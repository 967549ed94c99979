import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../../src/db/index.js';

/** Codes an upload may be refused with (docs/api.md, Imports). */
export const UPLOAD_ERROR_CODES = [
  'unsupported_file_type',
  'missing_columns',
  'empty_file',
  'file_too_large',
  'too_many_rows',
  'unterminated_quote',
  'record_too_large',
  'invalid_csv',
  'too_many_columns',
  'invalid_workbook',
  'workbook_too_large',
  'workbook_too_many_entries',
  'cell_too_long',
  'xml_value_too_long',
] as const;

/** What a workspace has staged and enqueued: refused uploads must leave all three unchanged. */
export async function stagedState(
  app: FastifyInstance,
  db: Db,
  workspaceId: string,
): Promise<{ imports: number; rows: number; jobs: number }> {
  const { rows } = await sql<{ imports: number; rows: number }>`
    select (select count(*)::int from imports where workspace_id = ${workspaceId}) as imports,
           (select count(*)::int from import_rows where workspace_id = ${workspaceId}) as rows`.execute(db);
  const counts = await app.queues.queue('imports').getJobCounts();
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
  return { imports: rows[0]!.imports, rows: rows[0]!.rows, jobs };
}

/** True when nothing on Object.prototype was added by a request (prototype pollution). */
export function prototypeClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return (
    probe.polluted === undefined &&
    probe.isAdmin === undefined &&
    Object.getOwnPropertyNames(Object.prototype).every((k) =>
      [
        'constructor',
        '__defineGetter__',
        '__defineSetter__',
        'hasOwnProperty',
        '__lookupGetter__',
        '__lookupSetter__',
        'isPrototypeOf',
        'propertyIsEnumerable',
        'toString',
        'valueOf',
        '__proto__',
        'toLocaleString',
      ].includes(k),
    )
  );
}

/**
 * Asks the API's /healthz every 50 ms until stopped; resolves to the slowest answer in milliseconds, so
 * that a test can show the API kept answering everyone while it refused or read something large.
 */
export function watchHealth(app: FastifyInstance): { stop: () => Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    // Measured from when the request was due, so a stall during the pause between requests counts too.
    let due = performance.now();
    while (running) {
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      slowest = Math.max(slowest, performance.now() - due);
      if (res.statusCode !== 200) slowest = Number.POSITIVE_INFINITY;
      due = performance.now() + 50;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}
