/**
 * The load test of issue 8: `npm run test:load [-- --seconds 120 --clients 24]`. Loopback only, bounded
 * in time. Starts the compiled service (API + worker) on a database and queue prefix of its own, then:
 *   1. mixed load for --seconds: SCIM reads and writes (filter, get, create, patch, group membership,
 *      a 50-operation Bulk), REST lists, and two clients uploading 5,000-row CSV imports one after the
 *      other; checks no 5xx, no request left unanswered, no unhandled rejection in the service's output,
 *      and memory flat (the API's and the worker's RSS over the last fifth of the run against the second
 *      fifth);
 *   2. overload for 15 s: a second API process with RATE_LIMIT_PER_MINUTE=600 under 64 clients; every
 *      refusal must be 429 (or 503) with Retry-After, never a 5xx.
 * Writes its section of docs/reliability.md and exits non-zero when a check fails.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openHarness, runMain } from './lib/harness.js';
import { int, markers, table, writeSection } from './lib/markdown.js';
import { statusKb } from './lib/sampler.js';
import { freePort, root, runCli, startService, stopService, waitForApi } from './lib/service.js';
import { readyStack, startStack, stopStack, type StackContext } from './lib/stack.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number`);
  return v;
};

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

interface Tally {
  statuses: Map<string, number>;
  latencies: Map<string, number[]>;
  unanswered: number;
  serverErrors: string[];
  refusalsWithoutRetryAfter: number;
}

const newTally = (): Tally => ({
  statuses: new Map(),
  latencies: new Map(),
  unanswered: 0,
  serverErrors: [],
  refusalsWithoutRetryAfter: 0,
});

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(
  tally: Tally,
  op: string,
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: unknown } | undefined> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    const ms = performance.now() - started;
    const key = `${op} ${res.status}`;
    tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
    tally.latencies.set(op, [...(tally.latencies.get(op) ?? []), ms]);
    if (res.status >= 500 && res.status !== 503)
      tally.serverErrors.push(`${op} ${res.status} ${text.slice(0, 200)}`);
    if ((res.status === 429 || res.status === 503) && !res.headers.get('retry-after'))
      tally.refusalsWithoutRetryAfter++;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, body };
  } catch {
    tally.unanswered++;
    return undefined;
  }
}

function csv(rows: number, tag: string): string {
  const lines = ['email,first_name,last_name,role'];
  for (let i = 0; i < rows; i++) lines.push(`load.${tag}.${i}@example.com,Load,User ${i},Member`);
  return `${lines.join('\n')}\n`;
}

interface Sample {
  t: number;
  api?: number;
  worker?: number;
}

async function main(): Promise<number> {
  const seconds = arg('seconds', 120);
  const clients = arg('clients', 24);
  const h = await openHarness(log, { keepFiles: false });
  try {
    const dbName = h.own(`lp_bench_${h.suffix}_load`);
    const databaseUrl = h.urlOf(dbName);
    await runCli(['migrate'], { DATABASE_URL: databaseUrl });
    const ctx: StackContext = {
      databaseUrl,
      redisUrl: h.redisUrl,
      queuePrefix: `{lpbench-${h.suffix}-load}`,
      serviceEnv: { EMAIL_RATE_PER_SECOND: '1000' },
      cpuProf: undefined,
      live: h.live,
    };
    const stack = await startStack(ctx, 'load', 1);
    let extra: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      await readyStack(ctx, stack);
      const auth = { authorization: `Bearer ${stack.token}` };
      const scimHeaders = { ...auth, 'content-type': 'application/scim+json' };
      const base = stack.baseUrl;
      const setup = newTally();

      // A few hundred users and two groups to read and change.
      const ids: string[] = [];
      const names: string[] = [];
      for (let i = 0; i < 300; i++) {
        const userName = `seed.${i}@example.com`;
        const r = await timed(setup, 'seed', `${base}/scim/v2/Users`, {
          method: 'POST',
          headers: scimHeaders,
          body: JSON.stringify({
            schemas: [CORE_USER],
            userName,
            name: { givenName: 'Seed', familyName: `${i}` },
          }),
        });
        if (r?.status === 201) {
          ids.push((r.body as { id: string }).id);
          names.push(userName);
        }
      }
      const groups: string[] = [];
      for (const displayName of ['Load A', 'Load B']) {
        const r = await timed(setup, 'seed', `${base}/scim/v2/Groups`, {
          method: 'POST',
          headers: scimHeaders,
          body: JSON.stringify({ displayName, members: [] }),
        });
        if (r?.status === 201) groups.push((r.body as { id: string }).id);
      }
      if (ids.length < 300 || groups.length < 2) throw new Error('seeding failed');
      log(
        `seeded ${ids.length} users and ${groups.length} groups; mixed load for ${seconds} s with ${clients} clients`,
      );

      const tally = newTally();
      const samples: Sample[] = [];
      const started = Date.now();
      const end = started + seconds * 1000;
      const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
      let created = 0;
      let imports = 0;
      const sampler = setInterval(() => {
        samples.push({
          t: (Date.now() - started) / 1000,
          api: statusKb(stack.api.pid, 'VmRSS'),
          worker: statusKb(stack.workers[0]!.pid, 'VmRSS'),
        });
      }, 1000);

      const client = async (n: number) => {
        while (Date.now() < end) {
          const roll = Math.random();
          if (roll < 0.3) {
            const filter = encodeURIComponent(`userName eq "${pick(names)}"`);
            await timed(tally, 'GET /Users?filter', `${base}/scim/v2/Users?filter=${filter}`, {
              headers: auth,
            });
          } else if (roll < 0.45) {
            await timed(tally, 'GET /Users/{id}', `${base}/scim/v2/Users/${pick(ids)}`, { headers: auth });
          } else if (roll < 0.58) {
            created++;
            await timed(tally, 'POST /Users', `${base}/scim/v2/Users`, {
              method: 'POST',
              headers: scimHeaders,
              body: JSON.stringify({
                schemas: [CORE_USER],
                userName: `load.${n}.${created}.${h.suffix}@example.com`,
                name: { givenName: 'Load', familyName: `${created}` },
              }),
            });
          } else if (roll < 0.73) {
            await timed(tally, 'PATCH /Users/{id}', `${base}/scim/v2/Users/${pick(ids)}`, {
              method: 'PATCH',
              headers: scimHeaders,
              body: JSON.stringify({
                schemas: [PATCH_OP],
                Operations: [{ op: 'replace', path: 'title', value: `Title ${Math.random()}` }],
              }),
            });
          } else if (roll < 0.8) {
            const op = Math.random() < 0.6 ? 'add' : 'remove';
            const user = pick(ids);
            await timed(tally, 'PATCH /Groups/{id}', `${base}/scim/v2/Groups/${pick(groups)}`, {
              method: 'PATCH',
              headers: scimHeaders,
              body: JSON.stringify({
                schemas: [PATCH_OP],
                Operations:
                  op === 'add'
                    ? [{ op: 'add', path: 'members', value: [{ value: user }] }]
                    : [{ op: 'remove', path: `members[value eq "${user}"]` }],
              }),
            });
          } else if (roll < 0.85) {
            await timed(tally, 'GET /Groups', `${base}/scim/v2/Groups?excludedAttributes=members`, {
              headers: auth,
            });
          } else if (roll < 0.88) {
            const batch = ++created;
            await timed(tally, 'POST /Bulk (50)', `${base}/scim/v2/Bulk`, {
              method: 'POST',
              headers: scimHeaders,
              body: JSON.stringify({
                schemas: [BULK],
                Operations: Array.from({ length: 50 }, (_, i) => ({
                  method: 'POST',
                  path: '/Users',
                  bulkId: `b${i}`,
                  data: {
                    schemas: [CORE_USER],
                    userName: `bulk.${n}.${batch}.${i}.${h.suffix}@example.com`,
                    name: { givenName: 'Bulk', familyName: `${i}` },
                  },
                })),
              }),
            });
          } else {
            await timed(tally, 'GET /v1/users', `${base}/v1/users?limit=50`, { headers: auth });
          }
        }
      };

      const uploader = async (n: number) => {
        let round = 0;
        while (Date.now() < end - 5_000) {
          round++;
          const r = await timed(tally, 'POST /v1/imports (5k rows)', `${base}/v1/imports?sendInvites=true`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'text/csv' },
            body: csv(5000, `${n}-${round}-${h.suffix}`),
          });
          const id = (r?.body as { id?: string } | undefined)?.id;
          if (r?.status !== 202 || !id) continue;
          imports++;
          for (;;) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            const poll = await timed(tally, 'GET /v1/imports/{id}', `${base}/v1/imports/${id}`, {
              headers: auth,
            });
            const status = (poll?.body as { status?: string } | undefined)?.status;
            if (!status || ['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(status))
              break;
            if (Date.now() > end + 120_000) break;
          }
        }
      };

      await Promise.all([...Array.from({ length: clients }, (_, i) => client(i)), uploader(1), uploader(2)]);
      clearInterval(sampler);
      const elapsed = (Date.now() - started) / 1000;

      // Phase 2: a rate-limited API under a flood of requests.
      const port = await freePort();
      extra = startService('api-limited', {
        ...stack.env,
        ROLE: 'api',
        PORT: String(port),
        RATE_LIMIT_PER_MINUTE: '600',
      });
      h.live.add(extra);
      const limitedBase = `http://127.0.0.1:${port}`;
      await waitForApi(limitedBase, extra);
      const flood = newTally();
      const floodEnd = Date.now() + 15_000;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (Date.now() < floodEnd) {
            const filter = encodeURIComponent(`userName eq "${pick(names)}"`);
            await timed(flood, 'GET /Users?filter', `${limitedBase}/scim/v2/Users?filter=${filter}`, {
              headers: auth,
            });
          }
        }),
      );

      // Checks.
      const output = `${stack.api.output()}\n${stack.workers[0]!.output()}\n${extra.output()}`;
      const unhandled = /unhandled|uncaught/i.test(output);
      const window = (from: number, to: number, key: 'api' | 'worker') => {
        const values = samples
          .filter((s) => s.t >= from * elapsed && s.t < to * elapsed)
          .map((s) => s[key])
          .filter((v): v is number => v !== undefined);
        return values.length ? values.sort((a, b) => a - b)[Math.floor(values.length / 2)]! / 1024 : 0;
      };
      const rss = (['api', 'worker'] as const).map((key) => ({
        key,
        early: window(0.2, 0.4, key),
        late: window(0.8, 1.0, key),
        peak: Math.max(0, ...samples.map((s) => (s[key] ?? 0) / 1024)),
      }));
      const grown = rss.filter((r) => r.late > r.early * 1.25);
      const requests = [...tally.statuses.values()].reduce((a, b) => a + b, 0);
      const limited = [...flood.statuses.entries()]
        .filter(([k]) => k.endsWith(' 429'))
        .reduce((a, [, v]) => a + v, 0);
      const floodTotal = [...flood.statuses.values()].reduce((a, b) => a + b, 0);
      const checks: [boolean, string][] = [
        [tally.serverErrors.length === 0, `no 5xx under mixed load (${tally.serverErrors.length})`],
        [tally.unanswered === 0, `every request answered (${tally.unanswered} unanswered)`],
        [!unhandled, 'no unhandled rejection or exception in the service output'],
        [grown.length === 0, `memory flat (RSS in the last fifth within 25% of the second fifth)`],
        [imports > 0, `uploads completed under load (${imports})`],
        [limited > 0, `the rate-limited API answered 429 under the flood (${limited} of ${floodTotal})`],
        [
          flood.serverErrors.length === 0 && flood.unanswered === 0,
          'no 5xx and no dropped request under the flood',
        ],
        [
          flood.refusalsWithoutRetryAfter === 0 && tally.refusalsWithoutRetryAfter === 0,
          'every 429/503 carried Retry-After',
        ],
      ];

      const ops = [...tally.latencies.entries()].sort((a, b) => b[1].length - a[1].length);
      const section = [
        markers('load').start,
        '## Load (`npm run test:load`)',
        '',
        `Command: \`npm run test:load -- --seconds ${seconds} --clients ${clients}\`  `,
        `Date: ${h.machine.date}; commit \`${h.machine.commit}\`; machine: ${h.machine.nproc} × ${h.machine.cpus}, ${h.machine.memoryGiB} GiB, Node ${h.machine.node}, PostgreSQL ${h.machine.postgres}, Redis ${h.machine.redis}, all local; one API and one worker process.`,
        '',
        `Mixed load for ${elapsed.toFixed(0)} s: ${int(requests)} requests (${int(requests / elapsed)}/s) from ${clients} clients plus two uploaders (${imports} imports of 5,000 rows completed).`,
        '',
        table(
          ['request', 'count', 'p50 (ms)', 'p99 (ms)', 'statuses'],
          ops.map(([op, ms]) => [
            op,
            int(ms.length),
            pct(ms, 50).toFixed(1),
            pct(ms, 99).toFixed(1),
            [...tally.statuses.entries()]
              .filter(([k]) => k.startsWith(`${op} `))
              .map(([k, v]) => `${k.slice(op.length + 1)}: ${int(v)}`)
              .join(', '),
          ]),
        ),
        '',
        table(
          ['process', 'RSS 2nd fifth (MB)', 'RSS last fifth (MB)', 'peak (MB)'],
          rss.map((r) => [r.key, r.early.toFixed(0), r.late.toFixed(0), r.peak.toFixed(0)]),
        ),
        '',
        `Overload: 64 clients for 15 s against an API with \`RATE_LIMIT_PER_MINUTE=600\`: ${int(floodTotal)} requests, ${int(limited)} answered 429 with Retry-After, ${flood.serverErrors.length} 5xx, ${flood.unanswered} unanswered.`,
        '',
        ...checks.map(([ok, what]) => `- ${ok ? 'pass' : '**FAIL**'}: ${what}`),
        markers('load').end,
      ].join('\n');
      process.stdout.write(`\n${section}\n`);
      if (tally.serverErrors.length) log(`5xx seen:\n${tally.serverErrors.slice(0, 10).join('\n')}`);
      await writeSection(path.join(root, 'docs/reliability.md'), 'load', section);
      await writeFile(path.join(h.tmp, 'samples.json'), JSON.stringify(samples));
      log('docs/reliability.md updated');
      return checks.every(([ok]) => ok) ? 0 : 1;
    } finally {
      if (extra) {
        await stopService(extra);
        h.live.delete(extra);
      }
      await stopStack(ctx, stack);
    }
  } finally {
    await h.cleanup();
  }
}

runMain(main, log);
