import { sql } from 'kysely';
import type { Db } from '../db/index.js';

/** One round trip to Postgres; throws when it does not answer. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
