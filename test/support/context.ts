import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/index.js';
import { startWorkers, type WorkerHandle, type WorkerOptions } from '../../workers/main.js';
import { cloneTemplate, databaseUrl, dropDatabase } from './databases.js';

export interface TestContext {
  config: Config;
  db: Db;
  app: FastifyInstance;
  databaseName: string;
}

export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789';
export const INVITATION_SECRET = 'invitation-secret-for-tests-0123456789';

/** Config for a test: its own database and its own queue prefix, so files run in parallel. */
export function testConfig(databaseName: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl(databaseName),
    QUEUE_PREFIX: `{test-${randomBytes(4).toString('hex')}}`,
    LOG_LEVEL: 'silent',
    OPERATOR_TOKEN,
    INVITATION_SECRET,
    // Tests share a busy machine: the overload answer (503 while the event loop lags) has its own test.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
}

/** Sets up a database cloned from the template and an app on it for the current test file. */
export function useTestContext(env: Record<string, string> = {}): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    ctx.databaseName = await cloneTemplate();
    ctx.config = testConfig(ctx.databaseName, env);
    ctx.db = createDb(ctx.config.databaseUrl, { max: 5 });
    ctx.app = await buildApp({ config: ctx.config, db: ctx.db, logger: false });
    await ctx.app.ready();
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.db?.destroy();
    if (ctx.databaseName) await dropDatabase(ctx.databaseName);
  });
  return ctx;
}

export interface Call {
  status: number;
  body: any; // JSON under test
  headers: LightMyRequestResponse['headers'];
}

/** app.inject with a bearer token and a parsed JSON body. */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Call> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await app.inject({
    method,
    url,
    headers,
    ...(options.body !== undefined ? { payload: options.body as object } : {}),
  });
  let body: unknown = res.body;
  try {
    body = res.body ? (JSON.parse(res.body) as unknown) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body, headers: res.headers };
}

export interface TestWorkerOptions {
  /** `before` (default): started before the file's tests; `on-demand`: by the first `start()`. */
  start?: 'before' | 'on-demand';
  /** The workers' config, from the test's (an SMTP server's URL, say). */
  config?: (config: Config) => Config;
  logger?: Logger;
  /** Webhooks: another events feed, a faster retry schedule and timeout, a faster tick. */
  webhooks?: WorkerOptions['webhooks'];
}

export interface TestWorkers {
  /** Starts the workers unless they run; resolves to them. */
  start(): Promise<WorkerHandle>;
}

/**
 * The worker processors in this test process, on the test's database and queue prefix, closed after
 * the file's (or the describe block's) tests; no sweeper: the tests drive the work themselves.
 */
export function useTestWorkers(ctx: TestContext, options: TestWorkerOptions = {}): TestWorkers {
  let workers: Promise<WorkerHandle> | undefined;
  const start = () =>
    (workers ??= startWorkers({
      config: options.config ? options.config(ctx.config) : ctx.config,
      db: ctx.db,
      logger: options.logger ?? pino({ level: 'silent' }),
      sweepTasks: [],
      ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    }));
  if ((options.start ?? 'before') === 'before') beforeAll(async () => void (await start()));
  afterAll(async () => {
    await (await workers?.catch(() => undefined))?.close();
  });
  return { start };
}
