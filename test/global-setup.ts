import { createDb } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { TEMPLATE, TEST_DB_PREFIX, adminQuery, databaseUrl, dropDatabase } from './support/databases.js';

async function dropLeftovers(): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(
    `select datname from pg_database where datname like $1`,
    [`${TEST_DB_PREFIX}%`],
  );
  for (const row of rows) await dropDatabase(row.datname);
}

/** Migrates a template database once; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export async function setup(): Promise<void> {
  await dropLeftovers();
  await dropDatabase(TEMPLATE);
  await adminQuery(`create database ${TEMPLATE}`);
  const db = createDb(databaseUrl(TEMPLATE), { max: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

export async function teardown(): Promise<void> {
  await dropLeftovers();
  await dropDatabase(TEMPLATE);
}
