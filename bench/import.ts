/**
 * The CSV import benchmark of issue 5: `npm run bench:import -- --help`. Builds nothing itself (the npm
 * script builds first) and starts the compiled service; creates and drops its own database and queue
 * prefix, and writes bench/RESULTS.md.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseBenchArgs, USAGE } from './lib/args.js';
import { writeBenchFiles, writeBenchWorkbook } from './lib/csv.js';
import { copyFloor, type Floor } from './lib/floor.js';
import { argsOrExit, openHarness, runMain, samplerClient } from './lib/harness.js';
import { summariseProfiles } from './lib/profile.js';
import { renderReport, writeResults, type Report, type RunResult } from './lib/results.js';
import { runImport, type RunContext } from './lib/run.js';
import { deleteKeys, root, runCli, SERVICE_NODE_OPTIONS } from './lib/service.js';
import { waitForQuiet } from './lib/sampler.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);
const PASSED_THROUGH = ['WORKER_CONCURRENCY', 'BATCH_SIZE', 'EMAIL_RATE_PER_SECOND'];

async function main(): Promise<number> {
  const opts = argsOrExit(parseBenchArgs, USAGE, log);
  const h = await openHarness(log, { keepFiles: opts.keepFiles });
  const { suffix, admin, machine, tmp, redisUrl } = h;
  try {
    // 1. Files: every size once, streamed to disk; the floor's (email, name) copy of the same rows.
    const sizes = [...new Set([...opts.runs.map((r) => r.size), opts.floorRows])].sort((a, b) => a - b);
    const files = new Map<number, string>();
    const floorFile = path.join(tmp, `floor-${opts.floorRows}.csv`);
    for (const size of sizes) {
      const file = path.join(tmp, `users-${size}.csv`);
      const t = performance.now();
      await writeBenchFiles(file, size, size === opts.floorRows ? floorFile : undefined);
      files.set(size, file);
      if (opts.format === 'xlsx') {
        const workbook = path.join(tmp, `users-${size}.xlsx`);
        await writeBenchWorkbook(workbook, size);
        files.set(size, workbook);
      }
      log(
        `generated ${files.get(size)!} (${((await stat(files.get(size)!)).size / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }

    let warmupFile: string | undefined;
    if (opts.warmupRows > 0) {
      warmupFile = path.join(tmp, `warmup-${opts.warmupRows}.csv`);
      await writeBenchFiles(warmupFile, opts.warmupRows, undefined, 'warmup');
    }

    // 2. The floor, timed in the same run, in a database of its own.
    let floor: Floor | undefined;
    const floorDb = `lp_bench_${suffix}_floor`;
    try {
      h.own(floorDb);
      await admin.query(`create database "${floorDb}"`);
      if (opts.quietWaitS > 0) await waitForQuiet(opts.quietWaitS, log);
      floor = await copyFloor(h.urlOf(floorDb), floorFile, opts.floorRows, opts.floorRepeats);
      log(
        `COPY floor, ${opts.floorRows} rows: ${floor.runsMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`,
      );
    } catch (error) {
      log(`COPY floor failed: ${String(error)}`);
    } finally {
      await h.dropDatabase(floorDb);
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
      const databaseUrl = h.urlOf(h.own(dbName));
      await runCli(['migrate'], { DATABASE_URL: databaseUrl });
      const client = samplerClient(databaseUrl, log);
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
        ...(warmupFile ? { warmupFile } : {}),
        live: h.live,
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
        await h.dropDatabase(dbName);
        await deleteKeys(redisUrl, `${ctx.queuePrefix}:*`).catch(() => undefined);
      }
    }

    // 5. The report.
    const settings = [
      ...PASSED_THROUGH.map((k) => `${k}=${serviceEnv[k] ?? 'default'}`),
      `NODE_OPTIONS=${serviceEnv.NODE_OPTIONS.trim() || 'none'}`,
      opts.warmupRows > 0
        ? `each run's processes warmed first by an untimed ${opts.warmupRows}-row import without invitations`
        : 'every run on cold processes',
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
    await h.cleanup();
  }
}

runMain(main, log);
