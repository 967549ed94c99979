import type { MachineInfo } from './machine.js';
import { int, machineLines, markers, othersText, s, table, top } from './markdown.js';
import { bulkOk, type BulkResult, type LoadResult, type Window } from './scim-run.js';
import type { Seed } from './scim-seed.js';
import { failures } from './wrk.js';

export interface ScimReport {
  command: string;
  machine: MachineInfo;
  wrk: string;
  threads: number;
  warmupS: number;
  durationS: number;
  seed: Seed;
  /** The group of every seeded user the group scenarios use, when they ran. */
  group?: { groupId: string; members: number; seconds: number } | undefined;
  loads: LoadResult[];
  bulk: BulkResult | undefined;
}

const rate = (r: LoadResult) => (r.wrk ? r.wrk.requests / r.wrk.durationS : undefined);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : undefined;
};
const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .sort()
    .map(([k, v]) => `${int(v)} × ${k}`)
    .join(', ');

function failureText(r: LoadResult): string {
  if (!r.wrk) return '–';
  const { non2xx } = failures(r.wrk);
  if (non2xx === 0) return '0';
  const bad = Object.fromEntries(Object.entries(r.wrk.statuses).filter(([k]) => !k.startsWith('2')));
  return `**${int(non2xx)}** (${statusText(bad)})`;
}

function noResponseText(r: LoadResult): string {
  if (!r.wrk) return '–';
  const { noResponse } = failures(r.wrk);
  if (noResponse === 0) return '0';
  const e = r.wrk.errors;
  return `**${int(noResponse)}** (connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout})`;
}

function loadTable(loads: LoadResult[]): string {
  return table(
    [
      'scenario',
      'connections',
      'requests',
      'req/s',
      'p50 (ms)',
      'p90 (ms)',
      'p99 (ms)',
      'max (ms)',
      'non-2xx',
      'no response',
      'note',
    ],
    loads.map((r) => {
      const w = r.wrk;
      const notes = [
        r.error ? `**error**: ${r.error}` : '',
        w && r.name === 'filter' ? `${int(w.misses)} filters found no user` : '',
        r.warmup
          ? `warm-up ${int(r.warmup.requests)} requests, ${int(failures(r.warmup).non2xx + failures(r.warmup).noResponse)} failed`
          : '',
      ].filter(Boolean);
      return [
        r.label,
        String(r.connections),
        w ? int(w.requests) : '–',
        w ? int(rate(r)!) : '–',
        s(w?.latencyMs.p50, 1),
        s(w?.latencyMs.p90, 1),
        s(w?.latencyMs.p99, 1),
        s(w?.latencyMs.max, 0),
        failureText(r),
        noResponseText(r),
        notes.join('; '),
      ];
    }),
  );
}

/** The Bulk outcome: the median when every timed request created every user, a short and a long text. */
function bulkText(b: BulkResult): { median: number | undefined; short: string; line: string } {
  if (b.error && b.attempts.length === 0 && !b.warmup) {
    const text = `**error**: ${b.error}`;
    return { median: undefined, short: text, line: text };
  }
  if (!b.available)
    return {
      median: undefined,
      short: `not available (HTTP ${b.warmup!.status})`,
      line: `Not available: the server answered ${b.warmup!.status} to \`POST /scim/v2/Bulk\` (\`${(b.warmup!.detail ?? '').replaceAll('`', "'")}\`)`,
    };
  const bad = b.attempts.filter((a) => !bulkOk(a, b.ops));
  const med = bad.length === 0 ? median(b.attempts.map((a) => a.ms)) : undefined;
  const parts = [
    `${b.attempts.length} timed: ${b.attempts.map((a) => `${s(a.ms / 1000)} s`).join(', ')}`,
    ...bad.map((a) =>
      a.status === 200
        ? `**a 200 with operations ${statusText(a.opStatuses)}**`
        : `**HTTP ${a.status}**${a.detail ? ` (${a.detail.replaceAll('|', '/')})` : ''}`,
    ),
    b.error ? `**error**: ${b.error}` : '',
  ].filter(Boolean);
  const line = `${med !== undefined ? `Median **${s(med / 1000)} s**; ` : ''}${parts.join('; ')}`;
  return {
    median: med,
    short: med !== undefined ? `median ${s(med / 1000)} s` : `${bad.length} of ${b.attempts.length} failed`,
    line,
  };
}

function targets(report: ScimReport): string {
  const body: string[][] = [];
  const load = (name: string) => report.loads.find((r) => r.name === name);
  const clean = (r: LoadResult) =>
    r.wrk !== undefined && failures(r.wrk).non2xx + failures(r.wrk).noResponse + r.wrk.misses === 0;
  const filter = load('filter');
  if (filter) {
    const ok = filter.wrk && clean(filter) && filter.connections === 32;
    body.push([
      'filtered GET ≥ 2,000 req/s at 32 connections',
      filter.wrk ? `${int(rate(filter)!)} req/s at ${filter.connections}` : '–',
      ok && rate(filter)! >= 2000 ? 'yes' : 'no',
    ]);
    body.push([
      'filtered GET p99 < 50 ms at 32 connections',
      filter.wrk ? `${s(filter.wrk.latencyMs.p99, 1)} ms` : '–',
      ok && filter.wrk!.latencyMs.p99 < 50 ? 'yes' : 'no',
    ]);
  }
  const post = load('post');
  if (post)
    body.push([
      'POST /Users ≥ 300 req/s',
      post.wrk ? `${int(rate(post)!)} req/s at ${post.connections}` : '–',
      post.wrk && clean(post) && rate(post)! >= 300 ? 'yes' : 'no',
    ]);
  if (report.bulk) {
    const { median: med, short } = bulkText(report.bulk);
    body.push([
      `a ${int(report.bulk.ops)}-operation Bulk < 2 s`,
      short,
      !report.bulk.available ? 'not available' : med !== undefined && med < 2000 ? 'yes' : 'no',
    ]);
  }
  return table(['target (issue 7)', 'measured', 'met'], body);
}

function windowRow(name: string, w: Window | undefined): string[] {
  if (!w) return [name, ...Array<string>(10).fill('–')];
  const c = w.cpu;
  const cores = (x: number) => s(x / c.wallS);
  return [
    name,
    s(c.wallS, 1),
    cores(c.api),
    cores(c.workers[0] ?? 0),
    cores(c.pgBackends),
    cores(c.pgBackground),
    w.loadgenCpu === undefined ? '–' : cores(w.loadgenCpu),
    cores(c.machineBusy),
    othersText(c.others),
    String(w.rssMb.api),
    String(w.rssMb.worker),
  ];
}

export function renderScimReport(report: ScimReport): string {
  const { start, end } = markers('scim');
  const rows = [
    ...report.loads.map((r) => windowRow(r.name, r.window)),
    ...(report.bulk?.window ? [windowRow('bulk', report.bulk.window)] : []),
  ];
  const activity = [
    ...report.loads.map((r) => [r.name, r.window?.activity] as const),
    ['bulk', report.bulk?.window?.activity] as const,
  ]
    .filter(([, a]) => a && Object.keys(a.byState).length > 0)
    .map(
      ([name, a]) =>
        `- **${name}**: states ${top(a!.byState, 4).join(', ')}; active waits ${top(a!.byWait, 4).join(', ')}; ` +
        `active queries ${top(a!.byQuery, 3).join('; ')}`,
    );
  const seed = report.seed;
  return [
    start,
    '## SCIM 2.0 (`npm run bench:scim`)',
    '',
    ...machineLines(report.command, report.machine),
    `Service: one API process (\`ROLE=api\`) and one worker (\`ROLE=worker\`) started from \`dist/\`, LOG_LEVEL=warn, defaults otherwise. Load generator: wrk ${report.wrk}, ${report.threads} thread${report.threads > 1 ? 's' : ''}, in its own process.`,
    '',
    `The workspace: ${int(seed.users)} users created by a CSV import through the API (\`POST /v1/imports\`,`,
    `create mode, \`sendInvites=false\`, run by the worker) in ${s(seed.seconds, 1)} s, into a new database`,
    `migrated by the service CLI; ${seed.analyzed ? '`ANALYZE` run after the seeding' : 'no `ANALYZE` (autovacuum is off here: the planner has no statistics)'}.`,
    `Each scenario: ${report.warmupS} s of warm-up, then ${report.durationS} s measured, closed loop (each connection`,
    'sends its next request when the answer to the last is in), every request for a random seeded user',
    '(filters must find their user: a 2xx that does not is counted) or, for POST, a new unique userName.',
    'Latency is wrk’s, from sending the request to the end of the response. Non-2xx answers and requests',
    'without an answer are counted and shown, never dropped.',
    ...(report.group
      ? [
          `The group scenarios use one group holding all ${int(report.group.members)} users, filled through the API with`,
          `PATCH adds of 1,000 members each in ${s(report.group.seconds, 1)} s (every member's role recomputed, each an audit event).`,
        ]
      : []),
    '',
    '### Requests',
    '',
    loadTable(report.loads),
    '',
    '### Bulk',
    '',
    report.bulk
      ? `\`POST /scim/v2/Bulk\` with ${int(report.bulk.ops)} \`POST /Users\` operations (each with a bulkId, RFC 7644 §3.7), one request at a time, after one untimed request; time from sending to the whole BulkResponse. ${bulkText(report.bulk).line}.`
      : 'Not run.',
    '',
    '### Targets',
    '',
    targets(report),
    '',
    '### CPU and memory by scenario',
    '',
    'Over each measured window: CPU in cores (CPU seconds / wall seconds) from `/proc/<pid>/stat`, sampled',
    'every 200 ms: the service processes, the Postgres backends of the bench database, the shared Postgres',
    'background processes, and wrk. "CPU of others" is everyone else on the shared machine, in CPU',
    'seconds (the bench itself sends the Bulk requests). Peak RSS is the highest VmRSS sampled in the window.',
    '',
    table(
      [
        'scenario',
        'wall (s)',
        'API',
        'worker',
        'PG backends',
        'PG shared bg',
        'wrk',
        'cores busy (of machine)',
        'CPU of others (s)',
        'API peak RSS (MB)',
        'worker peak RSS (MB)',
      ],
      rows,
    ),
    '',
    '### What the backends were doing',
    '',
    'Share of 200 ms samples of `pg_stat_activity` for the bench database, as for bench:import.',
    '',
    activity.join('\n') || 'No samples.',
    end,
  ].join('\n');
}

/** 0 when every scenario ran without an error (targets missed or Bulk not available still give 0). */
export function exitCode(report: ScimReport): number {
  const loadErrors = report.loads.some((r) => r.error !== undefined || r.wrk === undefined);
  return loadErrors || report.bulk?.error !== undefined ? 1 : 0;
}
