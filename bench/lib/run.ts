import path from 'node:path';
import type pg from 'pg';
import { getImport, TERMINAL, upload, type ImportView } from './api.js';
import type { Plan } from './args.js';
import type { PhaseCpu, RunResult } from './results.js';
import { Sampler, statusKb, waitForQuiet, type CpuSnapshot } from './sampler.js';
import {
  freePort,
  runCli,
  startService,
  stopService,
  waitForApi,
  waitForWorkers,
  type Proc,
} from './service.js';

export interface RunContext {
  databaseUrl: string;
  dbName: string;
  redisUrl: string;
  queuePrefix: string;
  /** Service variables passed through from the bench's environment (BATCH_SIZE, ...). */
  serviceEnv: Record<string, string>;
  timeoutS: number;
  quietWaitS: number;
  cpuProf: string | undefined;
  client: pg.Client;
  /** Every service process alive, for the cleanup on interrupt. */
  live: Set<Proc>;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function phase(from: CpuSnapshot, to: CpuSnapshot, workers: string[]): PhaseCpu {
  const d = (label: string) => (to.node[label] ?? 0) - (from.node[label] ?? 0);
  return {
    wallS: (to.at - from.at) / 1000,
    api: d('api'),
    workers: workers.map(d),
    pgBackends: to.pgBackends - from.pgBackends,
    pgBackground: to.pgBackground - from.pgBackground,
    machineBusy: to.machineBusy - from.machineBusy,
    others: {
      ...Object.fromEntries(Object.entries(to.others).map(([k, v]) => [k, v - (from.others[k] ?? 0)])),
      'the bench': d('bench'),
    },
  };
}

/** One import of `file` against a fresh workspace, a fresh API process and `plan.workers` fresh workers. */
export async function runImport(ctx: RunContext, plan: Plan, file: string): Promise<RunResult> {
  const tag = `${plan.size}x${plan.workers}`;
  const created = JSON.parse(
    await runCli(
      [
        'workspace',
        'create',
        '--name',
        `Bench ${tag}`,
        '--role',
        'Admin',
        '--role',
        'Member',
        '--location',
        'London',
        '--json',
      ],
      { DATABASE_URL: ctx.databaseUrl },
    ),
  ) as { token: string };
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...ctx.serviceEnv,
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: ctx.queuePrefix,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  const prof = (label: string) =>
    ctx.cpuProf
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${path.resolve(ctx.cpuProf)}`,
          `--cpu-prof-name=${tag}-${label}.cpuprofile`,
        ]
      : [];
  const api = startService('api', { ...env, ROLE: 'api', PORT: String(port) }, prof('api'));
  const workers = Array.from({ length: plan.workers }, (_, i) =>
    startService(`worker${i + 1}`, { ...env, ROLE: 'worker', PORT: '0' }, prof(`worker${i + 1}`)),
  );
  const procs = [api, ...workers];
  for (const p of procs) ctx.live.add(p);
  const result: RunResult = {
    ...plan,
    outcome: 'error',
    note: undefined,
    importStatus: undefined,
    uploadS: undefined,
    e2eS: undefined,
    pickupS: undefined,
    processedRows: 0,
    counts: undefined,
    rssMb: { api: 0, workers: [] },
    cpu: undefined,
    activity: undefined,
  };
  let sampler: Sampler | undefined;
  try {
    await waitForApi(baseUrl, api);
    await waitForWorkers(ctx.redisUrl, ctx.queuePrefix, workers);
    if (ctx.quietWaitS > 0) await waitForQuiet(ctx.quietWaitS, ctx.log);
    sampler = new Sampler(ctx.client, ctx.dbName, [...procs, { label: 'bench', pid: process.pid }]);
    const c0 = await sampler.start();
    const wall0 = Date.now();
    const t0 = performance.now();
    const res = await upload(baseUrl, created.token, file);
    const t202 = performance.now();
    const m202 = await sampler.mark();
    if (res.status !== 202)
      throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    result.uploadS = (t202 - t0) / 1000;
    ctx.log(`  ${tag}: 202 after ${result.uploadS.toFixed(2)} s`);
    let view = res.body as ImportView;
    let lastLog = t202;
    for (;;) {
      await sleep(100);
      const dead = procs.find((p) => !p.running());
      if (dead) throw new Error(`${dead.label} exited during the import:\n${dead.output()}`);
      view = await getImport(baseUrl, created.token, view.id);
      if (TERMINAL.has(view.status)) {
        result.outcome = 'completed';
        break;
      }
      if (performance.now() - t0 > ctx.timeoutS * 1000) {
        result.outcome = 'timeout';
        // Stopped at the next batch boundary, so that no later run's sweeper picks it up again.
        await fetch(`${baseUrl}/v1/imports/${view.id}/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.token}` },
        }).catch(() => undefined);
        break;
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        ctx.log(
          `  ${tag}: ${view.status}, ${view.processedRows} of ${view.totalRows} rows after ${((lastLog - t0) / 1000).toFixed(0)} s`,
        );
      }
    }
    const tEnd = performance.now();
    const mEnd = await sampler.mark();
    result.e2eS = (tEnd - t0) / 1000;
    result.importStatus = view.status;
    result.processedRows = view.processedRows;
    result.counts = view.counts;
    if (view.startedAt) result.pickupS = (Date.parse(view.startedAt) - wall0) / 1000 - result.uploadS;
    const labels = workers.map((w) => w.label);
    result.cpu = { staging: phase(c0, m202.cpu, labels), batch: phase(m202.cpu, mEnd.cpu, labels) };
    result.activity = { staging: m202.activity, batch: mEnd.activity };
    if (result.outcome === 'completed') {
      const c = view.counts;
      if (view.status !== 'completed' || c.created !== plan.size || c.invited !== plan.size)
        result.note = `expected ${plan.size} created and invited; got ${JSON.stringify(c)}${view.error ? ` (${view.error.message})` : ''}`;
    }
  } catch (error) {
    result.outcome = 'error';
    result.note = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    ctx.log(`  ${tag} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (sampler) {
      const peaks = sampler.peaks();
      const peak = (p: Proc) =>
        Math.round(Math.max(statusKb(p.pid, 'VmHWM') ?? 0, peaks[p.label] ?? 0) / 1024);
      result.rssMb = { api: peak(api), workers: workers.map(peak) };
      await sampler.stop();
    }
    await Promise.all(procs.map((p) => stopService(p)));
    for (const p of procs) ctx.live.delete(p);
  }
  return result;
}
