import { randomBytes } from 'node:crypto';
import type { DbOrTx } from '../db/index.js';

/** Returns the named secret, creating it (32 random bytes) the first time; concurrent creators agree. */
export async function loadSecret(db: DbOrTx, name: string): Promise<Buffer> {
  await db
    .insertInto('service_secrets')
    .values({ name, value: randomBytes(32) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('service_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
