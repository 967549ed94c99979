import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The server every test talks to; TEST_DATABASE_URL overrides the shared local Postgres. */
export const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The migrated template and the name prefix of this run's databases (from the global setup). */
const template = (): string => inject('templateDatabase');
const testPrefix = (): string => inject('testDatabasePrefix');

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await client.query<T>(text, values);
  } finally {
    await client.end();
  }
}

export const uniqueName = (): string => `${testPrefix()}${randomBytes(6).toString('hex')}`;

/** A new database cloned from the migrated template (retrying while another clone holds the template). */
export async function cloneTemplate(): Promise<string> {
  const name = uniqueName();
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database ${name} template ${template()}`);
      return name;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`drop database if exists ${name} with (force)`);
}
