import type { Floor } from './floor.js';
import type { MachineInfo } from './machine.js';
import { int, machineLines, markers, othersText, rows, s, table, top, writeSection } from './markdown.js';
import type { ActivityCounts, PhaseCpu } from './sampler.js';

export interface RunResult {
  size: number;
  workers: number;
  outcome: 'completed' | 'timeout' | 'error';
  note: string | undefined;
  importStatus: string | undefined;
  /** Upload start to the 202 (spooling, parsing and staging). */
  uploadS: number | undefined;
  /** Upload start to the import seen completed (polled every 100 ms), or to the stop on timeout. */
  e2eS: number | undefined;
  /** The 202 to the job's startedAt (the queue's pickup). */
  pickupS: number | undefined;
  processedRows: number;
  counts: Record<string, number> | undefined;
  /** Peak resident memory: the higher of VmHWM at the end and VmRSS sampled every 200 ms. */
  rssMb: { api: number; workers: number[] };
  cpu: { staging: PhaseCpu; batch: PhaseCpu } | undefined;
  activity: { staging: ActivityCounts; batch: ActivityCounts } | undefined;
}

export interface Report {
  command: string;
  machine: MachineInfo;
  settings: string;
  floor: Floor | undefined;
  runs: RunResult[];
}

const rowsPerS = (r: RunResult) => (r.e2eS ? r.processedRows / r.e2eS : undefined);
const find = (runs: RunResult[], size: number, workers: number) =>
  runs.find((r) => r.size === size && r.workers === workers && r.outcome !== 'error');
const outcomeText = (r: RunResult) =>
  r.outcome === 'completed'
    ? `${r.importStatus}${r.note ? `: ${r.note}` : ''}`
    : r.outcome === 'timeout'
      ? `**stopped after ${s(r.e2eS, 0)} s: ${int(r.processedRows)} of ${int(r.size)} rows done**`
      : `**error**: ${r.note ?? ''}`;

function resultsTable(report: Report): string {
  const floorS = report.floor ? report.floor.medianMs / 1000 : undefined;
  return table(
    [
      'rows',
      'workers',
      'to 202 (s)',
      '202 → done (s)',
      'end to end (s)',
      'rows/s',
      '× COPY floor',
      'API peak RSS (MB)',
      'worker peak RSS (MB)',
      'result',
    ],
    report.runs.map((r) => [
      rows(r.size),
      String(r.workers),
      s(r.uploadS),
      r.e2eS !== undefined && r.uploadS !== undefined ? s(r.e2eS - r.uploadS) : '–',
      s(r.e2eS),
      rowsPerS(r) === undefined ? '–' : int(rowsPerS(r)!),
      floorS && r.e2eS && r.outcome === 'completed'
        ? `${s((r.e2eS / floorS) * (report.floor!.rows / r.size), 1)}${r.size === report.floor!.rows ? '' : ' (scaled)'}`
        : '–',
      String(r.rssMb.api),
      r.rssMb.workers.join(', '),
      outcomeText(r),
    ]),
  );
}

function cpuTable(runs: RunResult[]): string {
  const body: string[][] = [];
  for (const r of runs) {
    if (!r.cpu) continue;
    for (const [phase, c] of Object.entries(r.cpu)) {
      body.push([
        `${rows(r.size)} × ${r.workers}`,
        phase,
        s(c.wallS),
        s(c.api),
        c.workers.map((w) => s(w)).join(' + ') || '–',
        s(c.pgBackends),
        s(c.pgBackground),
        s(c.machineBusy / c.wallS),
        othersText(c.others),
      ]);
    }
  }
  return table(
    [
      'run',
      'phase',
      'wall (s)',
      'API CPU (s)',
      'worker CPU (s)',
      'PG backends CPU (s)',
      'PG shared bg CPU (s)',
      'cores busy (of machine)',
      'CPU of others (s)',
    ],
    body,
  );
}

function activitySection(runs: RunResult[]): string {
  const parts: string[] = [];
  for (const r of runs) {
    if (!r.activity) continue;
    for (const [phase, a] of Object.entries(r.activity)) {
      if (Object.keys(a.byState).length === 0) continue;
      parts.push(
        `- **${rows(r.size)} × ${r.workers}, ${phase}**: states ${top(a.byState, 4).join(', ')}; ` +
          `active waits ${top(a.byWait, 4).join(', ')}; active queries ${top(a.byQuery, 4).join('; ')}`,
      );
    }
  }
  return parts.join('\n');
}

/** The end-to-end target: within this many times the raw COPY floor of the same run (issue 20; stretch 4×). */
const FLOOR_TARGET = 6;

function targets(report: Report): string {
  const { runs, floor } = report;
  const body: string[][] = [];
  if (floor) {
    const limit = (floor.medianMs / 1000) * FLOOR_TARGET;
    const at = [1, 2]
      .map((w) => find(runs, floor.rows, w))
      .filter((r) => r?.outcome === 'completed' && r.e2eS);
    const text = at.map(
      (r) =>
        `${r!.workers} worker${r!.workers > 1 ? 's' : ''}: ${s(r!.e2eS)} s = ${s(r!.e2eS! / (floor.medianMs / 1000), 1)}× floor`,
    );
    body.push([
      `${rows(floor.rows)} rows end to end within ${FLOOR_TARGET}× the COPY floor (${s(floor.medianMs / 1000)} s × ${FLOOR_TARGET} = ${s(limit)} s)`,
      text.join('; ') || 'not run',
      at.length === 0 ? '–' : at.some((r) => r!.e2eS! <= limit) ? 'yes' : 'no',
    ]);
  }
  const big = runs.filter((r) => r.size >= 1_000_000 && r.outcome !== 'error');
  for (const r of big) {
    const partial = r.outcome === 'timeout' ? ` (partial run: ${int(r.processedRows)} rows done)` : '';
    body.push([
      `1M rows: API peak RSS < 200 MB (${r.workers} worker${r.workers > 1 ? 's' : ''})`,
      `${r.rssMb.api} MB${partial}`,
      r.rssMb.api < 200 ? 'yes' : 'no',
    ]);
    body.push([
      `1M rows: each worker's peak RSS < 250 MB`,
      `${r.rssMb.workers.join(', ')} MB${partial}`,
      r.rssMb.workers.every((w) => w < 250) ? 'yes' : 'no',
    ]);
    if (r.outcome === 'timeout') body.push(['1M rows import completes', outcomeText(r), 'no']);
  }
  for (const size of [...new Set(runs.map((r) => r.size))]) {
    const one = find(runs, size, 1);
    const two = find(runs, size, 2);
    if (one?.outcome !== 'completed' || two?.outcome !== 'completed') continue;
    body.push([
      `${rows(size)} rows: two workers no slower than one`,
      `${s(one.e2eS)} s with one, ${s(two.e2eS)} s with two (batch phase ${s(one.e2eS! - one.uploadS!)} s vs ${s(two.e2eS! - two.uploadS!)} s)`,
      two.e2eS! <= one.e2eS! ? 'yes' : 'no',
    ]);
  }
  return table(['target (issue 5)', 'measured', 'met'], body);
}

const { start: START, end: END } = markers('import');

export function renderReport(report: Report): string {
  const floor = report.floor
    ? `Raw \`COPY\` of the same ${int(report.floor.rows)} rows (email, name) through \`psql \\copy\` into a fresh table with one unique index on \`(workspace_id, lower(email))\`: **${s(report.floor.medianMs / 1000)} s** median of ${report.floor.runsMs.length} (${report.floor.runsMs.map((x) => s(x / 1000)).join(', ')} s).`
    : 'COPY floor not measured.';
  return [
    START,
    '## CSV import (`npm run bench:import`)',
    '',
    ...machineLines(report.command, report.machine),
    `Service: ${report.settings}.`,
    '',
    'Each run: its own new database (created and migrated by the service CLI) and queue prefix, a new',
    'workspace, one API process and N worker processes started fresh from `dist/` (so peak RSS is per',
    'run), the file streamed as a raw `text/csv` body to `POST /v1/imports`',
    '(create mode, sendInvites true); end to end is upload start to the import seen `completed` by',
    'polling every 100 ms, with every row created and its invitation queued in the outbox.',
    '',
    '### End to end',
    '',
    resultsTable(report),
    '',
    floor,
    '',
    '### Targets',
    '',
    targets(report),
    '',
    '### CPU by phase',
    '',
    'Staging is upload start to the 202 (the API spools, parses and stages the file); batch is the 202 to',
    'completion (the workers). CPU from `/proc/<pid>/stat` (utime + stime) sampled every 200 ms: the',
    'service processes, the Postgres backends of the bench database, and the shared Postgres background',
    'processes (WAL writer, checkpointer, ...). "Cores busy" is the whole machine; "CPU of others" is',
    'every other process on it, by command name (Redis is one; the machine is shared with other sessions,',
    'whose tests show up as node and postgres: a high figure there means a disturbed run).',
    '',
    cpuTable(report.runs),
    '',
    '### What the backends were doing',
    '',
    'Share of 200 ms samples of `pg_stat_activity` for the bench database: connection states (`idle in',
    'transaction` means Postgres waits for Node inside a transaction), wait events of active backends',
    '(`CPU` = none), and the statements they were running.',
    '',
    activitySection(report.runs),
    END,
  ].join('\n');
}

/** Replaces the import section of bench/RESULTS.md, keeping what is written around it. */
export const writeResults = (file: string, section: string) => writeSection(file, 'import', section);
