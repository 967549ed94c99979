import path from 'node:path';
import {
  freePort,
  runCli,
  startService,
  stopService,
  waitForApi,
  waitForWorkers,
  type Proc,
} from './service.js';

export interface StackContext {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** Service variables passed through from the bench's environment (BATCH_SIZE, ...). */
  serviceEnv: Record<string, string>;
  /** Directory for V8 CPU profiles of the service processes, if any. */
  cpuProf: string | undefined;
  /** Every service process alive, for the cleanup on interrupt. */
  live: Set<Proc>;
}

/** A fresh workspace (with a token of every scope), one API process and N worker processes from dist/. */
export interface Stack {
  baseUrl: string;
  token: string;
  workspaceId: string;
  api: Proc;
  workers: Proc[];
  procs: Proc[];
  /** The environment the processes were started with (without ROLE and PORT), to start more. */
  env: Record<string, string>;
}

/** Creates the workspace through the CLI and starts the processes; `readyStack` waits for them. */
export async function startStack(ctx: StackContext, tag: string, workerCount: number): Promise<Stack> {
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
  ) as { workspaceId: string; token: string };
  const port = await freePort();
  const env = {
    ...ctx.serviceEnv,
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: ctx.queuePrefix,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The benchmarks measure capacity from one token: the per-token rate limit would cap them.
    RATE_LIMIT_PER_MINUTE: '0',
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
  const workers = Array.from({ length: workerCount }, (_, i) =>
    startService(`worker${i + 1}`, { ...env, ROLE: 'worker', PORT: '0' }, prof(`worker${i + 1}`)),
  );
  const procs = [api, ...workers];
  for (const p of procs) ctx.live.add(p);
  return { baseUrl: `http://127.0.0.1:${port}`, ...created, api, workers, procs, env };
}

export async function readyStack(ctx: StackContext, stack: Stack): Promise<void> {
  await waitForApi(stack.baseUrl, stack.api);
  await waitForWorkers(ctx.redisUrl, ctx.queuePrefix, stack.workers);
}

export async function stopStack(ctx: StackContext, stack: Stack): Promise<void> {
  await Promise.all(stack.procs.map((p) => stopService(p)));
  for (const p of stack.procs) ctx.live.delete(p);
}

/** The first process of the stack found dead, as an error with its last output. */
export function deadProcess(stack: Stack, during: string): Error | undefined {
  const dead = stack.procs.find((p) => !p.running());
  return dead ? new Error(`${dead.label} exited during ${during}:\n${dead.output()}`) : undefined;
}
