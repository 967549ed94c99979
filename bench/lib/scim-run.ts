import path from 'node:path';
import type { ScimArgs } from './scim-args.js';
import { BULK_ABSENT, bulkRequest, timeBulk, type BulkAttempt, type LoadScenario } from './scim-scenarios.js';
import { phaseCpu, waitForQuiet, type ActivityCounts, type PhaseCpu, type Sampler } from './sampler.js';
import { deadProcess, type Stack } from './stack.js';
import { runWrk, writeScript, type WrkResult } from './wrk.js';

export interface ScimRunContext {
  stack: Stack;
  sampler: Sampler;
  opts: ScimArgs;
  users: number;
  idsFile: string;
  /** The group holding every seeded user, for the group scenarios. */
  groupId?: string;
  dir: string;
  /** Unique to this bench run: goes into every userName the bench creates. */
  suffix: string;
  log: (line: string) => void;
}

/** CPU, memory and Postgres activity over one measured window. */
export interface Window {
  cpu: PhaseCpu;
  /** CPU seconds of the load generator (wrk) in the window; undefined for Bulk (the bench sends it). */
  loadgenCpu: number | undefined;
  /** Peak VmRSS in the window, MB. */
  rssMb: { api: number; worker: number };
  activity: ActivityCounts;
}

export interface LoadResult {
  name: string;
  label: string;
  connections: number;
  wrk: WrkResult | undefined;
  warmup: WrkResult | undefined;
  window: Window | undefined;
  error: string | undefined;
}

export interface BulkResult {
  ops: number;
  /** false when the server answered 404/405/501: no Bulk endpoint (yet). */
  available: boolean;
  warmup: BulkAttempt | undefined;
  attempts: BulkAttempt[];
  window: Window | undefined;
  error: string | undefined;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

async function measured(ctx: ScimRunContext, body: () => Promise<void>, loadgen?: string): Promise<Window> {
  const m0 = await ctx.sampler.mark();
  await body();
  const m1 = await ctx.sampler.mark();
  const worker = ctx.stack.workers[0]?.label ?? 'worker1';
  const mb = (label: string) => Math.round((m1.rssKb[label] ?? 0) / 1024);
  return {
    cpu: phaseCpu(m0.cpu, m1.cpu, [worker]),
    loadgenCpu: loadgen ? (m1.cpu.node[loadgen] ?? 0) - (m0.cpu.node[loadgen] ?? 0) : undefined,
    rssMb: { api: mb('api'), worker: mb(worker) },
    activity: m1.activity,
  };
}

/** Warm-up, then the measured run, both at the same load; wrk in its own process. */
export async function runLoad(ctx: ScimRunContext, scenario: LoadScenario): Promise<LoadResult> {
  const { opts, stack } = ctx;
  const result: LoadResult = {
    name: scenario.name,
    label: scenario.label,
    connections: opts.connections,
    wrk: undefined,
    warmup: undefined,
    window: undefined,
    error: undefined,
  };
  const script = path.join(ctx.dir, `${scenario.name}.lua`);
  await writeScript(
    script,
    scenario.lua(ctx.users, ctx.groupId !== undefined ? { groupId: ctx.groupId } : {}),
  );
  const wrk = (phase: 'w' | 'm', durationS: number) =>
    runWrk({
      url: stack.baseUrl,
      script,
      args: [stack.token, ctx.idsFile, `${ctx.suffix}${phase}`],
      connections: opts.connections,
      threads: opts.threads,
      durationS,
    });
  try {
    if (opts.quietWaitS > 0) await waitForQuiet(opts.quietWaitS, ctx.log);
    if (opts.warmupS > 0) result.warmup = await wrk('w', opts.warmupS).result;
    const run = wrk('m', opts.durationS);
    const label = `wrk-${scenario.name}`;
    await ctx.sampler.track({ label, pid: run.pid });
    result.window = await measured(
      ctx,
      async () => {
        result.wrk = await run.result;
      },
      label,
    );
  } catch (error) {
    result.error = message(error);
  }
  const dead = deadProcess(stack, scenario.name);
  if (dead) result.error = message(dead);
  return result;
}

/** One untimed request (it also tells whether the endpoint exists), then `bulkRepeats` timed ones. */
export async function runBulk(ctx: ScimRunContext): Promise<BulkResult> {
  const { opts, stack } = ctx;
  const result: BulkResult = {
    ops: opts.bulkOps,
    available: true,
    warmup: undefined,
    attempts: [],
    window: undefined,
    error: undefined,
  };
  try {
    if (opts.quietWaitS > 0) await waitForQuiet(opts.quietWaitS, ctx.log);
    result.warmup = await timeBulk(stack.baseUrl, stack.token, bulkRequest(opts.bulkOps, `${ctx.suffix}-w`));
    if (BULK_ABSENT.has(result.warmup.status)) {
      result.available = false;
      return result;
    }
    const bodies = Array.from({ length: opts.bulkRepeats }, (_, i) =>
      bulkRequest(opts.bulkOps, `${ctx.suffix}-${i + 1}`),
    );
    result.window = await measured(ctx, async () => {
      for (const body of bodies) {
        const attempt = await timeBulk(stack.baseUrl, stack.token, body);
        result.attempts.push(attempt);
        ctx.log(`  bulk: ${attempt.status} in ${(attempt.ms / 1000).toFixed(2)} s`);
      }
    });
  } catch (error) {
    result.error = message(error);
  }
  const dead = deadProcess(stack, 'bulk');
  if (dead) result.error = message(dead);
  return result;
}

/** A Bulk attempt counts when it answered 200 with every operation 2xx. */
export const bulkOk = (a: BulkAttempt, ops: number) =>
  a.status === 200 &&
  Object.entries(a.opStatuses)
    .filter(([k]) => k.startsWith('2'))
    .reduce((sum, [, v]) => sum + v, 0) === ops;
