import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

/** Chunk size of a stored workbook: a few rows per 100 MB upload, and little memory either way. */
const CHUNK_BYTES = 1_048_576;

/** Stores an uploaded workbook with its import, a chunk per statement, streaming from the spool file. */
export async function storeWorkbook(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  path: string,
): Promise<void> {
  let seq = 0;
  for await (const data of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    await db
      .insertInto('import_workbooks')
      .values({ workspace_id: workspaceId, import_id: importId, seq, data })
      .execute();
    seq += 1;
  }
}

/** How many chunks a waiting workbook has (0 once converted). */
export async function workbookChunks(db: DbOrTx, workspaceId: string, importId: string): Promise<number> {
  const row = await db
    .selectFrom('import_workbooks')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Writes a stored workbook to `path`, a chunk at a time. */
export async function writeWorkbook(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  chunks: number,
  path: string,
): Promise<void> {
  const out = createWriteStream(path);
  try {
    for (let seq = 0; seq < chunks; seq++) {
      const { data } = await db
        .selectFrom('import_workbooks')
        .select('data')
        .where('workspace_id', '=', workspaceId)
        .where('import_id', '=', importId)
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
      if (!out.write(data)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}

export async function deleteWorkbook(db: DbOrTx, workspaceId: string, importId: string): Promise<void> {
  await db
    .deleteFrom('import_workbooks')
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .execute();
}

/** Serialises conversions of one import until the transaction ends, without locking the import row. */
export async function lockConversion(tx: DbOrTx, importId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`import-workbook:${importId}`}))`.execute(tx);
}
