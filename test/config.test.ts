import { describe, expect, it } from 'vitest';
import { ConfigError, DEVELOPMENT_INVITATION_SECRET, loadConfig } from '../src/config.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('applies DESIGN’s defaults with no environment set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/loopit_provision',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: '{loopit}',
      role: 'all',
      batchSize: 1000,
      smtpUrl: undefined,
      smtpMaxConnections: 5,
      publicUrl: 'http://127.0.0.1:3000',
      importMaxBytes: 104857600,
      importMaxRows: 1000000,
      importRetentionDays: 30,
      scimBulkWaitSeconds: 30,
      requestTimeoutSeconds: 600,
      sweepIntervalSeconds: 60,
      operatorToken: undefined,
      logLevel: 'info',
      trustProxy: false,
      apiStatementTimeoutMs: 30000,
      maxConcurrentUploads: 2,
      webhookAllowHttp: false,
      webhookAllowPrivateNetworks: false,
      webhookConcurrency: 16,
    });
  });

  it('turns the webhook safety switches on only when they read true', () => {
    const config = loadConfig({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    expect(config.webhookAllowHttp).toBe(true);
    expect(config.webhookAllowPrivateNetworks).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_HTTP: 'false' }).webhookAllowHttp).toBe(false);
  });

  it('derives PUBLIC_URL from HOST and PORT unless it is set, without a trailing slash', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://0.0.0.0:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://provision.example.com/' }).publicUrl).toBe(
      'https://provision.example.com',
    );
  });

  it('converts numbers and booleans from strings and treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      TRUST_PROXY: 'true',
      BATCH_SIZE: '',
      EMAIL_RATE_PER_SECOND: '2.5',
    });
    expect(config.port).toBe(8080);
    expect(config.trustProxy).toBe(true);
    expect(config.batchSize).toBe(1000);
    expect(config.emailRatePerSecond).toBe(2.5);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ROLE: 'boss' }, 'ROLE'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ DATABASE_URL: 'mysql://localhost/x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
    [{ BATCH_SIZE: '0' }, 'BATCH_SIZE'],
    [{ EMAIL_RATE_PER_SECOND: '-1' }, 'EMAIL_RATE_PER_SECOND'],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL'],
    [{ SMTP_MAX_CONNECTIONS: '0' }, 'SMTP_MAX_CONNECTIONS'],
    [{ SMTP_MAX_CONNECTIONS: '51' }, 'SMTP_MAX_CONNECTIONS'],
    [{ IMPORT_MAX_ROWS: '1.5' }, 'IMPORT_MAX_ROWS'],
    [{ OPERATOR_TOKEN: 'short' }, 'OPERATOR_TOKEN'],
    [{ INVITATION_SECRET: 'too-short-a-key' }, 'INVITATION_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ API_STATEMENT_TIMEOUT_MS: '-1' }, 'API_STATEMENT_TIMEOUT_MS'],
    [{ API_STATEMENT_TIMEOUT_MS: '30s' }, 'API_STATEMENT_TIMEOUT_MS'],
    [{ MAX_CONCURRENT_UPLOADS: '0' }, 'MAX_CONCURRENT_UPLOADS'],
    [{ WEBHOOK_ALLOW_HTTP: 'yes' }, 'WEBHOOK_ALLOW_HTTP'],
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'sure' }, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'],
    [{ WEBHOOK_CONCURRENCY: '0' }, 'WEBHOOK_CONCURRENCY'],
  ])('refuses %j naming %s', (env, name) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name}: must be`));
    const value = JSON.stringify(Object.values(env)[0]);
    if (['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'OPERATOR_TOKEN', 'INVITATION_SECRET'].includes(name))
      expect(found[0]).not.toContain(value);
    else expect(found[0]).toContain(value);
  });

  it('never prints the value of a secret variable, only its name', () => {
    const found = problems({
      DATABASE_URL: 'mysql://admin:hunter2@db.internal/x',
      REDIS_URL: 'redis//:hunter2@cache.internal:6379',
      SMTP_URL: 'http://mailer:hunter2@mail.internal',
      OPERATOR_TOKEN: 'hunter2',
      INVITATION_SECRET: 'hunter2',
      INVITATION_SECRET_PREVIOUS: 'hunter2',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'INVITATION_SECRET',
      'INVITATION_SECRET_PREVIOUS',
      'OPERATOR_TOKEN',
      'REDIS_URL',
      'SMTP_URL',
    ]);
    expect(found.join('\n')).not.toMatch(/hunter2|internal/);
    expect(found.every((p) => p.endsWith('(the value is not shown: it may hold a secret)'))).toBe(true);
  });

  it('uses the public development invitation key when INVITATION_SECRET is unset, and says so', () => {
    const config = loadConfig({});
    expect(config.invitationSecret).toBe(DEVELOPMENT_INVITATION_SECRET);
    expect(config.invitationSecretIsDefault).toBe(true);
    const set = loadConfig({ INVITATION_SECRET: 'k'.repeat(32), INVITATION_SECRET_PREVIOUS: 'p'.repeat(32) });
    expect(set).toMatchObject({
      invitationSecret: 'k'.repeat(32),
      invitationSecretPrevious: 'p'.repeat(32),
      invitationSecretIsDefault: false,
    });
  });

  it('refuses SMTP_URL without INVITATION_SECRET: real mail never carries links under the development key', () => {
    const found = problems({ SMTP_URL: 'smtp://mail.example.com:25' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^INVITATION_SECRET: must be set when SMTP_URL is/);
    expect(problems({ SMTP_URL: 'smtp://mail.example.com:25', INVITATION_SECRET: 'k'.repeat(32) })).toEqual(
      [],
    );
  });

  it('reports every bad variable at once', () => {
    expect(problems({ PORT: 'x', ROLE: 'y' }).map((p) => p.split(':')[0])).toEqual(['PORT', 'ROLE']);
  });
});
