import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { machineInfo, type MachineInfo } from './machine.js';
import { deleteKeys, stopService, type Proc } from './service.js';

/**
 * What every benchmark run owns and must give back: its databases (lp_bench_<suffix>_*), its queue
 * prefixes ({lpbench-<suffix>-*}), its service processes and a scratch directory. `cleanup` runs once,
 * at the end or on SIGINT/SIGTERM.
 */
export interface Harness {
  suffix: string;
  redisUrl: string;
  /** A client on the server's `postgres` database, for CREATE/DROP DATABASE and the machine info. */
  admin: pg.Client;
  machine: MachineInfo;
  tmp: string;
  /** Every service process alive, stopped by the cleanup. */
  live: Set<Proc>;
  urlOf(db: string): string;
  /** Registers a database name for the drop at cleanup (create it yourself or through the CLI). */
  own(db: string): string;
  dropDatabase(db: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function openHarness(
  log: (line: string) => void,
  opts: { keepFiles: boolean },
): Promise<Harness> {
  const suffix = randomBytes(4).toString('hex');
  const server = new URL(process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (
    !['127.0.0.1', 'localhost', '[::1]'].includes(server.hostname) ||
    !/\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(redisUrl)
  )
    throw new Error('the bench runs against local Postgres and Redis only');
  const urlOf = (db: string) => Object.assign(new URL(server), { pathname: `/${db}` }).toString();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'lp-bench-'));
  const admin = new pg.Client({ connectionString: server.toString() });
  admin.on('error', (e) => log(`admin connection: ${e.message}`));
  const live = new Set<Proc>();
  const databases = new Set<string>();
  const dropDatabase = async (db: string) => {
    await admin
      .query(`drop database if exists "${db}" with (force)`)
      .then(() => databases.delete(db))
      .catch((e: unknown) => log(`could not drop ${db}: ${String(e)}`));
  };

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all([...live].map((p) => stopService(p, 10_000)));
    const dropped = [...databases];
    for (const db of dropped) await dropDatabase(db);
    await admin.end().catch(() => undefined);
    const keys = await deleteKeys(redisUrl, `{lpbench-${suffix}-*}:*`).catch(() => -1);
    if (!opts.keepFiles) await rm(tmp, { recursive: true, force: true });
    log(
      `cleaned up: every bench database dropped (${dropped.length} left at the end), ${keys} Redis keys left deleted${opts.keepFiles ? `, files kept in ${tmp}` : ''}`,
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));

  try {
    await admin.connect();
    const machine = await machineInfo(admin, redisUrl);
    log(
      `bench lp_bench_${suffix}; commit ${machine.commit}${machine.dirtyElsewhere.length ? ' (tree dirty)' : ''}`,
    );
    return {
      suffix,
      redisUrl,
      admin,
      machine,
      tmp,
      live,
      urlOf,
      own: (db) => (databases.add(db), db),
      dropDatabase,
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * The bench's own connection to a bench database. An interrupt drops the database `with (force)`
 * while it is open: the error that follows is expected, and must not crash the cleanup.
 */
export function samplerClient(databaseUrl: string, log: (line: string) => void): pg.Client {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'lp-bench-sampler' });
  client.on('error', (e) => log(`sampler connection: ${e.message}`));
  return client;
}

/** Reads `parse(argv)`, printing the usage and exiting (2 on a bad argument, 0 on --help) when it throws. */
export function argsOrExit<T>(parse: (argv: string[]) => T, usage: string, log: (line: string) => void): T {
  try {
    return parse(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(message ? `error: ${message}\n\n${usage}` : usage);
    process.exit(message ? 2 : 0);
  }
}

/** Runs `main` and exits with its code; an exception is printed and exits 1. */
export function runMain(main: () => Promise<number>, log: (line: string) => void): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
