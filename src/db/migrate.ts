import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import type { Db } from './index.js';

// Resolves to migrations/ from src/db (tsx) and to dist/migrations/ from dist/src/db (compiled).
export const migrationFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Loads migrations from the folder with this module's own import(), so the same code works compiled,
 * under tsx and under vitest (Kysely's FileMigrationProvider imports from inside node_modules, where
 * .ts files cannot be loaded).
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.folder)).filter(
      (f) => /^\d.*\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'),
    );
    const migrations: Record<string, Migration> = {};
    for (const file of files.sort()) {
      const module = (await import(pathToFileURL(path.join(this.folder, file)).href)) as {
        up: Migration['up'];
        down?: Migration['down'];
      };
      migrations[file.replace(/\.(js|ts)$/, '')] = {
        up: (db) => module.up(db),
        down: (db) => (module.down ? module.down(db) : Promise.resolve()),
      };
    }
    return migrations;
  }
}

export function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: new FolderMigrationProvider(migrationFolder) });
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly results: MigrationResultSet['results'],
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

const unwrap = (set: MigrationResultSet): string[] => {
  if (set.error) {
    const failed = set.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown migration';
    const cause = set.error instanceof Error ? set.error.message : JSON.stringify(set.error);
    throw new MigrationError(`migration ${failed} failed: ${cause}`, set.results);
  }
  return (set.results ?? []).map((r) => r.migrationName);
};

/**
 * Migrates to the latest version. Kysely's Postgres adapter holds a transaction-scoped advisory lock
 * while it migrates, so processes starting together cannot race; each waits and then finds nothing to do.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return unwrap(await createMigrator(db).migrateToLatest());
}

export async function migrateDown(db: Db): Promise<string[]> {
  return unwrap(await createMigrator(db).migrateDown());
}

/** Creates the database named in the URL when it does not exist yet (first start on a fresh machine). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const target = new pg.Client({ connectionString: databaseUrl });
  try {
    await target.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await target.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`create database "${name.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    // Another process created it between our check and our create.
    const code = (error as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await admin.end();
  }
}
