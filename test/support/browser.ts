import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { OPERATOR_TOKEN } from './context.js';
import { cloneTemplate, databaseUrl, dropDatabase } from './databases.js';
import { root, startServer, waitFor } from './processes.js';

/** Debian's chromium (or CHROMIUM_PATH), driven by playwright-core: nothing downloads a browser. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => Boolean(p && existsSync(p)),
);

/** A port nobody listens on, for a server started as a process. */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The compiled service (ROLE all) on its own database, and a chromium page pointed at nothing yet. */
export interface BrowserStack {
  database: string;
  server: ReturnType<typeof startServer>;
  base: string;
  browser: Browser;
  page: Page;
  /** Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1, else a temporary directory. */
  shots: string;
  close(): Promise<void>;
}

/**
 * What both browser tests start from: a database cloned from the template, the compiled service on a
 * free port (load shedding off: other test files share the two cores), ready, and one page of a fresh
 * context. `close` stops and removes it all.
 */
export async function startBrowserStack(env: Record<string, string> = {}): Promise<BrowserStack> {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install -y chromium (.ci/run does)');
  const shots = process.env.UPDATE_SCREENSHOTS
    ? path.join(root, 'docs/screenshots')
    : await mkdtemp(path.join(tmpdir(), 'loopit-shots-'));
  await mkdir(shots, { recursive: true });
  const database = await cloneTemplate();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startServer({
    DATABASE_URL: databaseUrl(database),
    PORT: String(port),
    QUEUE_PREFIX: `{test-${database}}`,
    ROLE: 'all',
    LOG_LEVEL: 'silent',
    OPERATOR_TOKEN,
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
  await waitFor(async () => {
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return {
    database,
    server,
    base,
    browser,
    page,
    shots,
    async close() {
      await browser.close();
      server.child.kill('SIGTERM');
      await server.exited;
      await dropDatabase(database);
      if (!process.env.UPDATE_SCREENSHOTS) await rm(shots, { recursive: true, force: true });
    },
  };
}
