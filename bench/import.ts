/**
 * The CSV import benchmark of issue 5: `npm run bench:import -- --help`. Builds nothing itself (the npm
 * script builds first) and starts the compiled service; creates and drops its own database and queue
 * prefix, and writes bench/RESULTS.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseBenchArgs, USAGE, type BenchArgs } from './lib/args.js';
import { writeBenchFiles } from './lib/csv.js';
import { copyFloor, type Floor } from './lib/floor.js';
import { machineInfo } from './lib/machine.js';
import { summariseProfiles } from './lib/profile.js';
import { renderReport, writeResults, type Report, type RunResult } from './lib/results.js';
import { runImport, type RunContext } from './lib/run.js';
import { deleteKeys, root, runCli, SERVICE_NODE_OPTIONS, stopService, type Proc } from './lib/service.js';
import { waitForQuiet } from './lib/sampler.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);
const PASSED_THROUGH = ['WORKER_CONCURRENCY', 'BATCH_SIZE', 'EMAIL_RATE_PER_SECOND'];

function args(): BenchArgs {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(message ? `error: ${message}\n\n${USAGE}` : USAGE);
    process.exit(message ? 2 : 0);
  }
}

async function main(): Promise<number> {
  const opts = args();
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
  const live = new Set<Proc>();
  const databases = new Set<string>();
  const dropDatabase = async (db: string) => {
    await admin
      .query(`drop database if exists "${db}" with (force)`)
      .then(() => databases.delete(db))
      .catch((e: unknown) => log(`could not drop ${db}: ${String(e)}`));
  };
  const keyPattern = `{lpbench-${suffix}-*}:*`;

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all([...live].map((p) => stopService(p, 10_000)));
    const dropped = [...databases];
    for (const db of dropped) await dropDatabase(db);
    await admin.end().catch(() => undefined);
    const keys = await deleteKeys(redisUrl, keyPattern).catch(() => -1);
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

    // 1. Files: every size once, streamed to disk; the floor's (email, name) copy of the same rows.
    const sizes = [...new Set([...opts.runs.map((r) => r.size), opts.floorRows])].sort((a, b) => a - b);
    const files = new Map<number, string>();
    const floorFile = path.join(tmp, `floor-${opts.floorRows}.csv`);
    for (const size of sizes) {
      const file = path.join(tmp, `users-${size}.csv`);
      const t = performance.now();
      await writeBenchFiles(file, size, size === opts.floorRows ? floorFile : undefined);
      files.set(size, file);
      log(
        `generated ${file} (${((await stat(file)).size / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }

    // 2. The floor, timed in the same run, in a database of its own.
    let floor: Floor | undefined;
    const floorDb = `lp_bench_${suffix}_floor`;
    try {
      databases.add(floorDb);
      await admin.query(`create database "${floorDb}"`);
      if (opts.quietWaitS > 0) await waitForQuiet(opts.quietWaitS, log);
      floor = await copyFloor(urlOf(floorDb), floorFile, opts.floorRows, opts.floorRepeats);
      log(
        `COPY floor, ${opts.floorRows} rows: ${floor.runsMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`,
      );
    } catch (error) {
      log(`COPY floor failed: ${String(error)}`);
    } finally {
      await dropDatabase(floorDb);
    }

    // 3. The runs: each in a fresh database, created and migrated by the service's own code (the CLI's
    // migrate), with its own queue prefix, so that no run inherits another's rows or unsent invitations.
    const serviceEnv = Object.fromEntries(
      PASSED_THROUGH.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
    ) as Record<string, string>;
    // The service processes start with the production image's NODE_OPTIONS (the heap cap) unless
    // SERVICE_NODE_OPTIONS says otherwise; the bench's own process keeps its own options.
    serviceEnv.NODE_OPTIONS = process.env.SERVICE_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS;
    const runs: RunResult[] = [];
    for (const [i, plan] of opts.runs.entries()) {
      log(`run: ${plan.size} rows, ${plan.workers} worker${plan.workers > 1 ? 's' : ''}`);
      const dbName = `lp_bench_${suffix}_${i + 1}`;
      const databaseUrl = urlOf(dbName);
      databases.add(dbName);
      await runCli(['migrate'], { DATABASE_URL: databaseUrl });
      const client = new pg.Client({ connectionString: databaseUrl, application_name: 'lp-bench-sampler' });
      await client.connect();
      const ctx: RunContext = {
        databaseUrl,
        dbName,
        redisUrl,
        queuePrefix: `{lpbench-${suffix}-${i + 1}}`,
        serviceEnv,
        timeoutS: opts.timeoutS,
        quietWaitS: opts.quietWaitS,
        cpuProf: opts.cpuProf,
        client,
        live,
        log,
      };
      try {
        const r = await runImport(ctx, plan, files.get(plan.size)!);
        runs.push(r);
        log(
          `  ${r.outcome}: end to end ${r.e2eS?.toFixed(2) ?? '–'} s, ${r.processedRows} rows, RSS API ${r.rssMb.api} MB, workers ${r.rssMb.workers.join('/')} MB`,
        );
      } finally {
        await client.end().catch(() => undefined);
        await dropDatabase(dbName);
        await deleteKeys(redisUrl, `${ctx.queuePrefix}:*`).catch(() => undefined);
      }
    }

    // 5. The report.
    const settings = [
      ...PASSED_THROUGH.map((k) => `${k}=${serviceEnv[k] ?? 'default'}`),
      `NODE_OPTIONS=${serviceEnv.NODE_OPTIONS.trim() || 'none'}`,
      'LOG_LEVEL=warn',
      'no SMTP_URL (invitation e-mails go to the log)',
    ].join(', ');
    const report: Report = {
      command: ['npm run bench:import', ...(opts.argv.length ? ['--', ...opts.argv] : [])].join(' '),
      machine,
      settings,
      floor,
      runs,
    };
    if (opts.cpuProf) log(`\n${await summariseProfiles(opts.cpuProf)}`);
    const section = renderReport(report);
    process.stdout.write(`\n${section}\n`);
    if (opts.writeResults) {
      await writeResults(path.join(root, 'bench/RESULTS.md'), section);
      log('bench/RESULTS.md updated');
    }
    return runs.every((r) => r.outcome === 'completed' && !r.note) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
