import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../support/processes.js';

/** A port free right now (the kernel's choice), for a private Redis or a service process. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM: with persistence on, it writes its data first) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Runs one command, e.g. FLUSHALL. */
  command(...args: string[]): Promise<unknown>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * A Redis only this test uses, as a child process on a free port, never the shared one. With
 * `persist`, writes go to an append-only file fsynced on every write, so a restart keeps the queues
 * (a planned restart); without, nothing is kept (a restart loses everything).
 */
export async function startPrivateRedis(options: { persist?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loopit-fault-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    ...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    exited = new Promise((resolve) => proc.on('close', () => resolve()));
    await waitFor(() => ping(port), 15_000);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async command(...cmd: string[]) {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        return await client.call(cmd[0]!, ...cmd.slice(1));
      } finally {
        client.disconnect();
      }
    },
    async destroy() {
      await stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
