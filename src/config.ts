import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { trimTrailingSlashes } from './lib/text.js';

const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
);

/** Every variable of the service, with its default. Strings from the environment are converted first. */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgres://postgres@127.0.0.1:5432/loopit_provision',
  }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  QUEUE_PREFIX: Type.String({ pattern: '^[^:\\s]+$', default: '{loopit}' }),
  ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], { default: 'all' }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  SMTP_MAX_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 50, default: 5 }),
  MAIL_FROM: Type.String({ minLength: 3, default: 'Loopit <no-reply@loopit.local>' }),
  EMAIL_RATE_PER_SECOND: Type.Number({ exclusiveMinimum: 0, maximum: 100000, default: 50 }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  IMPORT_MAX_BYTES: Type.Integer({ minimum: 1, default: 104857600 }),
  IMPORT_MAX_ROWS: Type.Integer({ minimum: 1, default: 1000000 }),
  IMPORT_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  AUDIT_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 36500, default: 365 }),
  SCIM_BULK_WAIT_SECONDS: Type.Integer({ minimum: 1, maximum: 600, default: 30 }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, maximum: 10000000, default: 60000 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 1000 }),
  API_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 3600000, default: 30000 }),
  MAX_CONCURRENT_UPLOADS: Type.Integer({ minimum: 1, maximum: 1000, default: 2 }),
  REQUEST_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 600 }),
  SWEEP_INTERVAL_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
  OPERATOR_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  INVITATION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  INVITATION_SECRET_PREVIOUS: Type.Optional(Type.String({ minLength: 32 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  LOG_LEVEL: Type.Union(LogLevel.anyOf, { default: 'info' }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  WEBHOOK_ALLOW_HTTP: Type.Boolean({ default: false }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Boolean({ default: false }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
});

type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  role: 'all' | 'api' | 'worker';
  workerConcurrency: number;
  batchSize: number;
  smtpUrl: string | undefined;
  /** SMTP connections per worker process; a drain sends this many messages of its slice at once. */
  smtpMaxConnections: number;
  mailFrom: string;
  emailRatePerSecond: number;
  publicUrl: string;
  importMaxBytes: number;
  importMaxRows: number;
  importRetentionDays: number;
  /** Audit events older than this are purged by the sweeper, in batches. */
  auditRetentionDays: number;
  /** How long a SCIM Bulk request waits for the worker before answering 503 (the work goes on). */
  scimBulkWaitSeconds: number;
  /** Requests per minute per token (per client address without one), counted in Redis; 0: no limit. */
  rateLimitPerMinute: number;
  /** Above this event-loop delay the API answers 503 with Retry-After; 0: never. */
  maxEventLoopDelayMs: number;
  /** Postgres cancels a statement of the API's pool past this (503 `query_timeout`); 0: never. */
  apiStatementTimeoutMs: number;
  /** Uploads one workspace may have reading or staging at once, across every API process; more: 429. */
  maxConcurrentUploads: number;
  /** How long a client has to send a whole request (headers and body); then 408 and the connection closes. */
  requestTimeoutSeconds: number;
  /** How often each worker's sweeper re-enqueues what Postgres says is pending (also once at start). */
  sweepIntervalSeconds: number;
  operatorToken: string | undefined;
  /** The key of invitation tokens (HMAC); DEVELOPMENT_INVITATION_SECRET when INVITATION_SECRET is unset. */
  invitationSecret: string;
  /** The key before the last rotation: links of invitations made under it can still be rebuilt. */
  invitationSecretPrevious: string | undefined;
  /** True when INVITATION_SECRET is unset and the development key is in use. */
  invitationSecretIsDefault: boolean;
  /** ROLE=worker: serve this process's /metrics on this port (API processes serve it on PORT). */
  metricsPort: number | undefined;
  logLevel: string;
  trustProxy: boolean;
  /** Webhook endpoints may use plain http:// (development and tests); otherwise https only. */
  webhookAllowHttp: boolean;
  /** Webhook endpoints may resolve to private, loopback or link-local addresses (development and tests). */
  webhookAllowPrivateNetworks: boolean;
  /** Webhook endpoints one worker process delivers to at once (each with a few requests in flight). */
  webhookConcurrency: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const describe = (schema: Record<string, unknown>): string => {
  if (Array.isArray(schema.anyOf)) {
    return `one of ${(schema.anyOf as { const: unknown }[]).map((s) => String(s.const)).join(', ')}`;
  }
  if (schema.type === 'integer') {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    return `an integer${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` and <= ${max}` : ''}`;
  }
  if (schema.type === 'number') return 'a positive number';
  if (schema.type === 'boolean') return 'true or false';
  if (typeof schema.pattern === 'string') return `a value matching ${schema.pattern}`;
  if (typeof schema.minLength === 'number') return `at least ${schema.minLength} characters`;
  return 'a valid value';
};

/** Never echoed in a configuration error: tokens, keys, and URLs that may carry a password. */
const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
  'OPERATOR_TOKEN',
  'INVITATION_SECRET',
  'INVITATION_SECRET_PREVIOUS',
]);

/**
 * The invitation key when INVITATION_SECRET is unset. It is public (it is in this file), so invitation
 * links made with it can be forged by anyone who knows an invitation's id: fit for a development
 * machine whose e-mails go to the log, and refused once SMTP_URL sends real mail.
 */
export const DEVELOPMENT_INVITATION_SECRET = 'loopit-provision-development-only-invitation-secret';

const got = (key: string, value: unknown): string =>
  SECRET_VARIABLES.has(key)
    ? '(the value is not shown: it may hold a secret)'
    : `(got ${JSON.stringify(value)})`;

/** Parses the environment once. Empty strings count as unset. Throws a ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const problems: string[] = [];
  // TypeBox would truncate '1.5' to an integer; refuse it instead.
  for (const [key, value] of Object.entries(raw)) {
    const schema = (EnvSchema.properties as Record<string, Record<string, unknown>>)[key];
    if (schema?.type === 'integer' && !/^-?\d+$/.test(String(value))) {
      problems.push(`${key}: must be ${describe(schema)} ${got(key, value)}`);
      delete raw[key];
    }
  }
  const withDefaults = Value.Default(EnvSchema, Value.Convert(EnvSchema, { ...raw }));
  for (const error of Value.Errors(EnvSchema, withDefaults)) {
    const key = error.path.replace(/^\//, '').split('/')[0] ?? '';
    const schema = (EnvSchema.properties as Record<string, Record<string, unknown>>)[key] ?? {};
    const line = `${key}: must be ${describe(schema)} ${got(key, raw[key])}`;
    if (!problems.includes(line)) problems.push(line);
  }
  const parsed = withDefaults as Partial<Env>;
  const smtpValid = parsed.SMTP_URL !== undefined && !problems.some((p) => p.startsWith('SMTP_URL:'));
  if (smtpValid && !parsed.INVITATION_SECRET) {
    problems.push(
      'INVITATION_SECRET: must be set when SMTP_URL is (32 characters or more, e.g. from `openssl rand -base64 32`); ' +
        'without it invitation links use the public development key',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const e = withDefaults as Env;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    role: e.ROLE,
    workerConcurrency: e.WORKER_CONCURRENCY,
    batchSize: e.BATCH_SIZE,
    smtpUrl: e.SMTP_URL,
    smtpMaxConnections: e.SMTP_MAX_CONNECTIONS,
    mailFrom: e.MAIL_FROM,
    emailRatePerSecond: e.EMAIL_RATE_PER_SECOND,
    publicUrl: trimTrailingSlashes(
      e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`,
    ),
    importMaxBytes: e.IMPORT_MAX_BYTES,
    importMaxRows: e.IMPORT_MAX_ROWS,
    importRetentionDays: e.IMPORT_RETENTION_DAYS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    scimBulkWaitSeconds: e.SCIM_BULK_WAIT_SECONDS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    apiStatementTimeoutMs: e.API_STATEMENT_TIMEOUT_MS,
    maxConcurrentUploads: e.MAX_CONCURRENT_UPLOADS,
    requestTimeoutSeconds: e.REQUEST_TIMEOUT_SECONDS,
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    operatorToken: e.OPERATOR_TOKEN,
    invitationSecret: e.INVITATION_SECRET ?? DEVELOPMENT_INVITATION_SECRET,
    invitationSecretPrevious: e.INVITATION_SECRET_PREVIOUS,
    invitationSecretIsDefault: e.INVITATION_SECRET === undefined,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    webhookAllowHttp: e.WEBHOOK_ALLOW_HTTP,
    webhookAllowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
  };
}
