import type pg from 'pg';
import { getImport, TERMINAL, upload, type ImportView } from './api.js';
import type { Plan } from './args.js';
import type { RunResult } from './results.js';
import { phaseCpu, Sampler, statusKb, waitForQuiet } from './sampler.js';
import type { Proc } from './service.js';
import { deadProcess, readyStack, startStack, stopStack, type Stack, type StackContext } from './stack.js';

export interface RunContext extends StackContext {
  dbName: string;
  timeoutS: number;
  quietWaitS: number;
  client: pg.Client;
  /** An untimed import sent first (no invitations), so that the timed one meets warm processes. */
  warmupFile?: string;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the import every 100 ms until it ends or `timeoutS` has passed since `t0` (then it is
 * cancelled, so that no later run's sweeper picks it up again); logs progress every 10 s.
 */
export async function pollImport(
  stack: Stack,
  first: ImportView,
  opts: { t0: number; timeoutS: number; tag: string; log: (line: string) => void },
): Promise<{ view: ImportView; outcome: 'completed' | 'timeout' }> {
  let view = first;
  let lastLog = performance.now();
  for (;;) {
    await sleep(100);
    const dead = deadProcess(stack, 'the import');
    if (dead) throw dead;
    view = await getImport(stack.baseUrl, stack.token, view.id);
    if (TERMINAL.has(view.status)) return { view, outcome: 'completed' };
    if (performance.now() - opts.t0 > opts.timeoutS * 1000) {
      // Stopped at the next batch boundary.
      await fetch(`${stack.baseUrl}/v1/imports/${view.id}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}` },
      }).catch(() => undefined);
      return { view, outcome: 'timeout' };
    }
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      opts.log(
        `  ${opts.tag}: ${view.status}, ${view.processedRows} of ${view.totalRows} rows after ${((lastLog - opts.t0) / 1000).toFixed(0)} s`,
      );
    }
  }
}

/**
 * Imports the warm-up file without invitations (nothing is left for the drain) and waits for it to end,
 * so that the processes have compiled their hot code and the pools hold open connections.
 */
async function warmUp(ctx: RunContext, stack: Stack, tag: string, file: string): Promise<void> {
  const t0 = performance.now();
  const res = await upload(stack.baseUrl, stack.token, file, { sendInvites: 'false' });
  if (res.status !== 202)
    throw new Error(`warm-up upload answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  const { view, outcome } = await pollImport(stack, res.body as ImportView, {
    t0,
    timeoutS: ctx.timeoutS,
    tag: `${tag} warm-up`,
    log: ctx.log,
  });
  if (outcome !== 'completed' || view.status !== 'completed')
    throw new Error(`warm-up import ended ${view.status}${view.error ? ` (${view.error.message})` : ''}`);
  ctx.log(
    `  ${tag}: warm-up of ${view.processedRows} rows done in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}

/** One import of `file` against a fresh workspace, a fresh API process and `plan.workers` fresh workers. */
export async function runImport(ctx: RunContext, plan: Plan, file: string): Promise<RunResult> {
  const tag = `${plan.size}x${plan.workers}`;
  const stack = await startStack(ctx, tag, plan.workers);
  const { api, workers, procs } = stack;
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
    await readyStack(ctx, stack);
    if (ctx.warmupFile) await warmUp(ctx, stack, tag, ctx.warmupFile);
    if (ctx.quietWaitS > 0) await waitForQuiet(ctx.quietWaitS, ctx.log);
    sampler = new Sampler(ctx.client, ctx.dbName, [...procs, { label: 'bench', pid: process.pid }]);
    const c0 = await sampler.start();
    const wall0 = Date.now();
    const t0 = performance.now();
    const res = await upload(stack.baseUrl, stack.token, file);
    const t202 = performance.now();
    const m202 = await sampler.mark();
    if (res.status !== 202)
      throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    result.uploadS = (t202 - t0) / 1000;
    ctx.log(`  ${tag}: 202 after ${result.uploadS.toFixed(2)} s`);
    const polled = await pollImport(stack, res.body as ImportView, {
      t0,
      timeoutS: ctx.timeoutS,
      tag,
      log: ctx.log,
    });
    const view = polled.view;
    result.outcome = polled.outcome;
    const tEnd = performance.now();
    const mEnd = await sampler.mark();
    result.e2eS = (tEnd - t0) / 1000;
    result.importStatus = view.status;
    result.processedRows = view.processedRows;
    result.counts = view.counts;
    if (view.startedAt) result.pickupS = (Date.parse(view.startedAt) - wall0) / 1000 - result.uploadS;
    const labels = workers.map((w) => w.label);
    result.cpu = { staging: phaseCpu(c0, m202.cpu, labels), batch: phaseCpu(m202.cpu, mEnd.cpu, labels) };
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
    await stopStack(ctx, stack);
  }
  return result;
}
