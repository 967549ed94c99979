import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN } from './support/context.js';
import { cloneTemplate, databaseUrl, dropDatabase } from './support/databases.js';
import { startServer, waitFor } from './support/processes.js';

let database: string;
let worker: ReturnType<typeof startServer>;
let base: string;

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  database = await cloneTemplate();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  worker = startServer({
    DATABASE_URL: databaseUrl(database),
    QUEUE_PREFIX: `{test-${database}}`,
    ROLE: 'worker',
    METRICS_PORT: String(port),
    OPERATOR_TOKEN,
    LOG_LEVEL: 'silent',
  });
  await waitFor(async () => {
    try {
      return (await fetch(`${base}/metrics`)).status === 401;
    } catch {
      return false;
    }
  });
});

afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  if (database) await dropDatabase(database);
});

describe('a worker process (ROLE=worker) with METRICS_PORT', () => {
  it('serves its metrics with the operator token only', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer lp_abcdefghij_x' } });
    expect(wrong.status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('# TYPE loopit_import_batch_duration_seconds histogram');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });

  it('stops serving when the worker shuts down', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });
});

describe('a signal while the process is still starting', () => {
  it('waits for startup, then shuts down cleanly (exit 0) instead of dying on the signal', async () => {
    const starting = startServer({
      DATABASE_URL: databaseUrl(database),
      QUEUE_PREFIX: `{test-${database}-starting}`,
      ROLE: 'worker',
      OPERATOR_TOKEN,
      LOG_LEVEL: 'info',
    });
    // "starting" is logged before the database is checked and migrated and before the workers start.
    await waitFor(() => starting.output().includes('"starting"'));
    starting.child.kill('SIGTERM');
    const code = await starting.exited;
    expect(code, starting.output()).toBe(0);
    expect(starting.output()).toContain('shutting down');
  });
});
