import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createDb, type Db } from '../db/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

/** Decorates `db`; destroys the pool on close unless the caller passed in its own. */
export default fp(
  async function db(app: FastifyInstance, opts: { db?: Db }) {
    const instance =
      opts.db ??
      createDb(app.config.databaseUrl, {
        applicationName: 'loopit-provision-api',
        statementTimeoutMs: app.config.apiStatementTimeoutMs,
      });
    app.decorate('db', instance);
    if (!opts.db) app.addHook('onClose', async () => instance.destroy());
  },
  { name: 'db' },
);
