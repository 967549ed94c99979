import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { root } from './service.js';

export interface MachineInfo {
  date: string;
  cpus: string;
  nproc: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** Server settings that change what the import costs (autovacuum off means no statistics). */
  pgSettings: string;
  redis: string;
  commit: string;
  /** Changed or untracked paths outside bench/ and package.json (other people's work in progress). */
  dirtyElsewhere: string[];
  dirtyBench: number;
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: root }).toString();

export async function machineInfo(client: pg.Client, redisUrl: string): Promise<MachineInfo> {
  const pgVersion = (await client.query<{ server_version: string }>('show server_version')).rows[0]!
    .server_version;
  const { rows: settings } = await client.query<{ name: string; setting: string }>(
    `select name, current_setting(name) as setting from pg_settings
      where name in ('autovacuum', 'shared_buffers', 'work_mem', 'synchronous_commit', 'max_wal_size', 'fsync')
      order by name`,
  );
  const pgSettings = settings.map((r) => `${r.name}=${r.setting}`).join(', ');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let redisVersion = 'unknown';
  try {
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  const status = git('status', '--porcelain')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
  const mine = (p: string) => p.startsWith('bench/') || p === 'package.json';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.cpus()[0]?.model.trim() ?? 'unknown',
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pgVersion,
    pgSettings,
    redis: redisVersion,
    commit: git('log', '--oneline', '-1').trim(),
    dirtyElsewhere: status.filter((p) => !mine(p)),
    dirtyBench: status.filter(mine).length,
  };
}
