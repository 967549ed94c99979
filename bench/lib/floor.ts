import { spawn } from 'node:child_process';
import { once } from 'node:events';

const WORKSPACE = '00000000-0000-4000-8000-00000000f100';

async function psql(databaseUrl: string, commands: string[]): Promise<string> {
  const child = spawn(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, ...commands.flatMap((c) => ['-c', c])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`psql exited ${code}: ${err.trim()}`);
  return out;
}

export interface Floor {
  rows: number;
  /** psql's \timing of each \copy, in ms (client side: reading the file, sending, the server's work). */
  runsMs: number[];
  medianMs: number;
}

/**
 * The floor of the issue: a raw COPY of the same rows (email, name) into a fresh table with one unique
 * index on (workspace_id, lower(email)), through psql's \copy from the file. Each repeat a new table.
 */
export async function copyFloor(
  databaseUrl: string,
  file: string,
  rows: number,
  repeats: number,
): Promise<Floor> {
  const runsMs: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const table = `bench_floor_${i}`;
    await psql(databaseUrl, [
      `create table ${table} (workspace_id uuid not null default '${WORKSPACE}', email text not null, name text not null)`,
      `create unique index ${table}_email on ${table} (workspace_id, lower(email))`,
    ]);
    const out = await psql(databaseUrl, [
      '\\timing on',
      `\\copy ${table} (email, name) from '${file.replaceAll("'", "''")}' with (format csv, header true)`,
    ]);
    const ms = /Time: ([\d.]+) ms/.exec(out);
    if (!ms) throw new Error(`no timing in psql output: ${out}`);
    runsMs.push(Number(ms[1]));
    const count = await psql(databaseUrl, [`select count(*) from ${table}`]);
    if (!new RegExp(`\\b${rows}\\b`).test(count))
      throw new Error(`${table} holds ${count.trim()}, expected ${rows} rows`);
    await psql(databaseUrl, [`drop table ${table}`]);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { rows, runsMs, medianMs: sorted[Math.floor(sorted.length / 2)]! };
}
