import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { createDb } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { adminQuery, databaseUrl, dropDatabase } from './support/databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    testDatabasePrefix: string;
  }
}

// Names are per run, so two runs on one machine (a developer's and a helper's) never touch each other.
const run = randomBytes(3).toString('hex');
const template = `lp_tpl_${run}`;
const prefix = `lp_test_${run}_`;

async function dropRunDatabases(): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(
    `select datname from pg_database where datname like $1`,
    [`${prefix}%`],
  );
  for (const row of rows) await dropDatabase(row.datname);
  await dropDatabase(template);
}

/** Migrates a template database once; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export async function setup(project: TestProject): Promise<void> {
  await adminQuery(`create database ${template}`);
  const db = createDb(databaseUrl(template), { max: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  project.provide('templateDatabase', template);
  project.provide('testDatabasePrefix', prefix);
}

export async function teardown(): Promise<void> {
  await dropRunDatabases();
}
