import { pino } from 'pino';
import { buildApp, loggerOptions } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDb } from './db/index.js';
import { ensureDatabase, migrateToLatest } from './db/migrate.js';
import { startWorkers, type WorkerHandle } from '../workers/main.js';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

type Db = ReturnType<typeof createDb>;
export type Role = Config['role'];

/**
 * The one start of both entry points (src/server.ts, workers/index.ts): the API, the workers or both
 * (`role`, else ROLE), after creating and migrating the database if needed; signals close what started.
 */
export function start(role?: Role): void {
  const loaded = configOrExit();
  // The role is part of the config the workers read too (a worker-only process serves its metrics).
  const config: Config = role ? { ...loaded, role } : loaded;
  const logger = pino(loggerOptions(config) as pino.LoggerOptions);
  if (config.invitationSecretIsDefault)
    logger.warn(
      'INVITATION_SECRET is not set: invitation links use the public development key; set it before inviting real people',
    );
  run(config, logger);
}

function run(config: Config, logger: pino.Logger): void {
  const { role } = config;
  /** What startup has brought up so far; shutdown closes exactly these. */
  const running: { app?: Awaited<ReturnType<typeof buildApp>>; workers?: WorkerHandle; dbs: Db[] } = {
    dbs: [],
  };

  async function main(): Promise<void> {
    logger.info({ role }, 'starting');
    if (await ensureDatabase(config.databaseUrl)) logger.info('created the database');
    const migrator = createDb(config.databaseUrl, { applicationName: 'loopit-provision-migrate', max: 1 });
    try {
      const applied = await migrateToLatest(migrator);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    } finally {
      await migrator.destroy();
    }
    // The API's pool cancels long statements (API_STATEMENT_TIMEOUT_MS); the workers' batches may run long.
    const apiDb =
      role === 'worker'
        ? undefined
        : createDb(config.databaseUrl, {
            applicationName: 'loopit-provision-api',
            max: 10,
            statementTimeoutMs: config.apiStatementTimeoutMs,
          });
    const workerDb =
      role === 'api'
        ? undefined
        : createDb(config.databaseUrl, {
            applicationName: 'loopit-provision-worker',
            max: 10 + config.workerConcurrency,
          });
    for (const db of [apiDb, workerDb]) if (db) running.dbs.push(db);

    if (apiDb) running.app = await buildApp({ config, db: apiDb, logger: loggerOptions(config) });
    if (workerDb && !stopping)
      running.workers = await startWorkers({
        config,
        db: workerDb,
        logger: logger.child({ role: 'worker' }),
      });
    if (running.app && !stopping) await running.app.listen({ port: config.port, host: config.host });
  }

  // Signals are handled from the first moment: one that arrives while the process is still starting
  // (a worker's metrics port answers before its first sweep ends) waits for startup, then closes it all.
  let stopping = false;
  let started: Promise<void> = Promise.resolve();
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took over 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    void (async () => {
      await started.catch(() => undefined); // a failed start exits on its own
      await running.app?.close(); // stop accepting, finish requests in flight
      await running.workers?.close(); // finish the batch in hand
      for (const db of running.dbs) await db.destroy();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  started = main();
  started.catch((error: unknown) => {
    logger.fatal({ err: error }, 'start failed');
    process.exit(1);
  });
}
