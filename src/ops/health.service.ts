import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export async function postgresReady(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
