/**
 * The SCIM benchmark of issue 7: `npm run bench:scim -- --help`. Starts the compiled service (the npm
 * script builds first) on a database and queue prefix of its own, seeds a 100,000-user workspace, puts
 * each endpoint under load with wrk, times the Bulk endpoint, and writes its section of
 * bench/RESULTS.md. Drops what it created.
 */
import path from 'node:path';
import { argsOrExit, openHarness, runMain, samplerClient } from './lib/harness.js';
import { summariseProfiles } from './lib/profile.js';
import { Sampler } from './lib/sampler.js';
import { parseScimArgs, SCIM_USAGE } from './lib/scim-args.js';
import { exitCode, renderScimReport, type ScimReport } from './lib/scim-results.js';
import { runBulk, runLoad, type BulkResult, type LoadResult, type ScimRunContext } from './lib/scim-run.js';
import { LOAD_SCENARIOS } from './lib/scim-scenarios.js';
import { seedGroup, seedUsers } from './lib/scim-seed.js';
import { writeSection } from './lib/markdown.js';
import { root, runCli } from './lib/service.js';
import { readyStack, startStack, stopStack, type StackContext } from './lib/stack.js';
import { failures, wrkVersion } from './lib/wrk.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const opts = argsOrExit(parseScimArgs, SCIM_USAGE, log);
  const wrk = await wrkVersion();
  const h = await openHarness(log, { keepFiles: opts.keepFiles });
  try {
    const dbName = h.own(`lp_bench_${h.suffix}_scim`);
    const databaseUrl = h.urlOf(dbName);
    await runCli(['migrate'], { DATABASE_URL: databaseUrl });
    const ctx: StackContext = {
      databaseUrl,
      redisUrl: h.redisUrl,
      queuePrefix: `{lpbench-${h.suffix}-scim}`,
      serviceEnv: {},
      cpuProf: opts.cpuProf,
      live: h.live,
    };
    const stack = await startStack(ctx, 'scim', 1);
    const client = samplerClient(databaseUrl, log);
    let sampler: Sampler | undefined;
    const loads: LoadResult[] = [];
    let bulk: BulkResult | undefined;
    let report: ScimReport;
    try {
      await client.connect();
      await readyStack(ctx, stack);
      log(`seeding ${opts.users} users through a CSV import...`);
      const seed = await seedUsers(stack, client, {
        users: opts.users,
        dir: h.tmp,
        analyze: opts.analyze,
        log,
      });
      log(`  seeded in ${seed.seconds.toFixed(1)} s`);

      const group = opts.scenarios.some((x) => x.startsWith('group-'))
        ? await seedGroup(stack, seed.idsFile, log)
        : undefined;

      sampler = new Sampler(client, dbName, [...stack.procs, { label: 'bench', pid: process.pid }]);
      await sampler.start();
      const run: ScimRunContext = {
        stack,
        sampler,
        opts,
        users: opts.users,
        idsFile: seed.idsFile,
        ...(group ? { groupId: group.groupId } : {}),
        dir: h.tmp,
        suffix: h.suffix,
        log,
      };
      for (const scenario of LOAD_SCENARIOS.filter((x) => opts.scenarios.includes(x.name))) {
        log(
          `${scenario.name}: ${opts.warmupS} s warm-up, ${opts.durationS} s at ${opts.connections} connections`,
        );
        const r = await runLoad(run, scenario);
        loads.push(r);
        if (r.wrk) {
          const f = failures(r.wrk);
          log(
            `  ${Math.round(r.wrk.requests / r.wrk.durationS)} req/s, p50 ${r.wrk.latencyMs.p50.toFixed(1)} ms, p99 ${r.wrk.latencyMs.p99.toFixed(1)} ms, non-2xx ${f.non2xx}, no response ${f.noResponse}, misses ${r.wrk.misses}`,
          );
        }
        if (r.error) log(`  error: ${r.error}`);
      }
      if (opts.scenarios.includes('bulk')) {
        log(`bulk: ${opts.bulkOps} operations, ${opts.bulkRepeats} timed requests`);
        bulk = await runBulk(run);
        if (!bulk.available) log(`  not available (${bulk.warmup?.status})`);
        if (bulk.error) log(`  error: ${bulk.error}`);
      }
      report = {
        command: ['npm run bench:scim', ...(opts.argv.length ? ['--', ...opts.argv] : [])].join(' '),
        machine: h.machine,
        wrk,
        threads: opts.threads,
        warmupS: opts.warmupS,
        durationS: opts.durationS,
        seed,
        group,
        loads,
        bulk,
      };
    } finally {
      await sampler?.stop();
      await stopStack(ctx, stack);
      await client.end().catch(() => undefined);
    }
    if (opts.cpuProf) log(`\n${await summariseProfiles(opts.cpuProf)}`);
    const section = renderScimReport(report);
    process.stdout.write(`\n${section}\n`);
    if (opts.writeResults) {
      await writeSection(path.join(root, 'bench/RESULTS.md'), 'scim', section);
      log('bench/RESULTS.md updated');
    }
    return exitCode(report);
  } finally {
    await h.cleanup();
  }
}

runMain(main, log);
