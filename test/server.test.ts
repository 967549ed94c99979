import { afterAll, describe, expect, it } from 'vitest';
import { adminQuery, databaseUrl, dropDatabase, uniqueName } from './support/databases.js';
import { startServer, waitFor } from './support/processes.js';

const fresh = uniqueName();
afterAll(async () => {
  await dropDatabase(fresh);
});

describe('server entry point', () => {
  it('creates and migrates a missing database, serves, and exits 0 on SIGTERM', async () => {
    const port = 39_000 + Math.floor(Math.random() * 1000);
    const server = startServer({
      DATABASE_URL: databaseUrl(fresh),
      PORT: String(port),
      QUEUE_PREFIX: `{test-${fresh}}`,
      LOG_LEVEL: 'info',
    });
    try {
      await waitFor(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
        } catch {
          return false;
        }
      });
      const { rows } = await adminQuery('select 1 from pg_database where datname = $1', [fresh]);
      expect(rows).toHaveLength(1);
      expect(server.output()).toContain('created the database');
      expect(server.output()).toContain('workers started');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('shutting down');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('refuses to start with a bad variable and names it', async () => {
    const server = startServer({ PORT: '3000', ROLE: 'everything' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('ROLE: must be one of all, api, worker');
  });
});
