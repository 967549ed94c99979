import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEEP_OUTPUT = 16_384;
/** As the Dockerfile sets it: the API's memory otherwise grows with V8's lazy collection, not with need. */
export const SERVICE_NODE_OPTIONS = '--max-old-space-size=128';

/** A service process (compiled JS) started by the bench. */
export interface Proc {
  label: string;
  child: ChildProcess;
  pid: number;
  /** The last 16 KB of its stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
  running(): boolean;
}

function tail(child: ChildProcess): () => string {
  let text = '';
  const add = (d: Buffer) => {
    text = (text + d.toString()).slice(-KEEP_OUTPUT);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

export function startService(label: string, env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/src/server.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${label}`);
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      alive = false;
      resolve(code);
    }),
  );
  return { label, child, pid: child.pid, output: tail(child), exited, running: () => alive };
}

/** SIGTERM (the service finishes the batch in hand), then SIGKILL after `graceMs`. */
export async function stopService(proc: Proc, graceMs = 35_000): Promise<void> {
  if (!proc.running()) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Runs the compiled CLI; resolves with stdout, rejects with stderr on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [path.join(root, 'dist/src/cli.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`cli ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
  return stdout;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, procs: Proc[], check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => !p.running());
    if (dead) throw new Error(`${dead.label} exited while waiting for ${what}:\n${dead.output()}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

export const waitForApi = (baseUrl: string, api: Proc) =>
  until('the API', [api], async () => (await fetch(`${baseUrl}/readyz`)).ok);

/** Waits until `count` worker processes are blocked on the imports queue (BullMQ names their clients). */
export async function waitForWorkers(redisUrl: string, prefix: string, workers: Proc[]): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('imports', { connection, prefix });
  try {
    await until('the workers', workers, async () => (await queue.getWorkersCount()) >= workers.length);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Deletes the Redis keys matching `pattern` (the bench's queue prefixes). */
export async function deleteKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
