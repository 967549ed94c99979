import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** A process whose CPU and memory the bench follows. */
export interface NodeTarget {
  label: string;
  pid: number;
}

/** Cumulative CPU seconds at one instant. */
export interface CpuSnapshot {
  at: number;
  node: Record<string, number>;
  /** Backends connected to the bench database (and its autovacuum workers). */
  pgBackends: number;
  /** Postgres processes of no database (WAL writer, checkpointer, ...), shared with other databases. */
  pgBackground: number;
  /** Every core's busy time, whoever used it. */
  machineBusy: number;
  /** Every other process on the machine, by command name (the machine is shared). */
  others: Record<string, number>;
}

/** CPU seconds spent between two snapshots. */
export interface PhaseCpu {
  wallS: number;
  api: number;
  workers: number[];
  pgBackends: number;
  pgBackground: number;
  machineBusy: number;
  /** Other processes on the shared machine by command name, and the bench itself. */
  others: Record<string, number>;
}

/** The CPU between two snapshots; the targets labelled `api`, `workers` and `bench` by name. */
export function phaseCpu(from: CpuSnapshot, to: CpuSnapshot, workers: string[]): PhaseCpu {
  const d = (label: string) => (to.node[label] ?? 0) - (from.node[label] ?? 0);
  return {
    wallS: (to.at - from.at) / 1000,
    api: d('api'),
    workers: workers.map(d),
    pgBackends: to.pgBackends - from.pgBackends,
    pgBackground: to.pgBackground - from.pgBackground,
    machineBusy: to.machineBusy - from.machineBusy,
    others: {
      ...Object.fromEntries(Object.entries(to.others).map(([k, v]) => [k, v - (from.others[k] ?? 0)])),
      'the bench': d('bench'),
    },
  };
}

/** What the bench database's backends were doing, counted over 200 ms samples. */
export interface ActivityCounts {
  byState: Record<string, number>;
  byWait: Record<string, number>;
  byQuery: Record<string, number>;
}

const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Command name and utime + stime in seconds of a process, or undefined once it is gone. */
function procStat(pid: number): { comm: string; cpu: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      cpu: (Number(fields[11]) + Number(fields[12])) / TICK,
    };
  } catch {
    return undefined;
  }
}

export const cpuSeconds = (pid: number): number | undefined => procStat(pid)?.cpu;

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), or undefined once the process is gone. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const t = line.split(/\s+/).slice(1, 9).map(Number);
  return t.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0) / TICK;
}

const bump = (map: Record<string, number>, key: string) => void (map[key] = (map[key] ?? 0) + 1);
const emptyCounts = (): ActivityCounts => ({ byState: {}, byWait: {}, byQuery: {} });

interface PgProc {
  base: number;
  last: number;
  background: boolean;
}

interface ActivityRow {
  pid: number;
  datname: string | null;
  state: string | null;
  wait: string | null;
  query: string | null;
}

/**
 * Samples every 200 ms: RSS of the service processes, CPU of them and of the Postgres processes
 * serving the bench database, and what those backends are doing (a poor man's pg profiler).
 */
export class Sampler {
  private readonly peakRss = new Map<string, number>();
  /** Highest VmRSS per process since the last mark. */
  private windowRss = new Map<string, number>();
  private readonly pgProcs = new Map<number, PgProc>();
  private readonly lastNode = new Map<string, number>();
  private readonly otherProcs = new Map<number, PgProc & { comm: string }>();
  private activity = emptyCounts();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly dbName: string,
    private readonly targets: NodeTarget[],
  ) {}

  /** Follows one more process from now on (a load generator started for one scenario). */
  async track(target: NodeTarget): Promise<void> {
    this.targets.push(target);
    await this.enqueue();
  }

  /** Takes the baseline: CPU already spent by Postgres processes alive now does not count. */
  async start(): Promise<CpuSnapshot> {
    await this.sample(true);
    this.timer = setInterval(() => void this.enqueue(), 200);
    return this.snapshot();
  }

  /**
   * Samples now and returns the cumulative CPU; the activity counted and the peak RSS (kB) seen since
   * the last mark go with it.
   */
  async mark(): Promise<{ cpu: CpuSnapshot; activity: ActivityCounts; rssKb: Record<string, number> }> {
    await this.enqueue();
    const activity = this.activity;
    const rssKb = Object.fromEntries(this.windowRss);
    this.activity = emptyCounts();
    this.windowRss = new Map();
    return { cpu: this.snapshot(), activity, rssKb };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
  }

  /** Highest VmRSS seen per process, in kB. */
  peaks(): Record<string, number> {
    return Object.fromEntries(this.peakRss);
  }

  private enqueue(): Promise<void> {
    this.chain = this.chain.then(() => this.sample(false)).catch(() => undefined);
    return this.chain;
  }

  private async sample(baseline: boolean): Promise<void> {
    for (const t of this.targets) {
      const rss = statusKb(t.pid, 'VmRSS');
      if (rss !== undefined) {
        this.peakRss.set(t.label, Math.max(rss, this.peakRss.get(t.label) ?? 0));
        this.windowRss.set(t.label, Math.max(rss, this.windowRss.get(t.label) ?? 0));
      }
      const cpu = cpuSeconds(t.pid);
      if (cpu !== undefined) this.lastNode.set(t.label, cpu);
    }
    const { rows } = await this.client.query<ActivityRow>(
      `select pid, datname, state,
              case when wait_event is null then null else wait_event_type || ':' || wait_event end as wait,
              left(btrim(regexp_replace(query, '\\s+', ' ', 'g')), 90) as query
         from pg_stat_activity
        where (datname = $1 or datname is null) and pid <> pg_backend_pid()`,
      [this.dbName],
    );
    for (const r of rows) {
      const cpu = cpuSeconds(r.pid);
      if (cpu === undefined) continue;
      const known = this.pgProcs.get(r.pid);
      if (known) known.last = cpu;
      // A backend born during the run counts its whole life; one alive at the start only what follows.
      else
        this.pgProcs.set(r.pid, {
          base: baseline || r.datname === null ? cpu : 0,
          last: cpu,
          background: r.datname === null,
        });
      if (r.datname === null || baseline) continue;
      const state = r.state ?? 'unknown';
      bump(this.activity.byState, state);
      if (state === 'active') {
        bump(this.activity.byWait, r.wait ?? 'CPU');
        bump(this.activity.byQuery, r.query ?? '');
      }
    }
    this.sampleOthers(baseline);
  }

  /** Everything else running on the machine, so that a disturbed run shows who disturbed it. */
  private sampleOthers(baseline: boolean): void {
    const ours = new Set([...this.targets.map((t) => t.pid), ...this.pgProcs.keys()]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (ours.has(pid)) continue;
      const stat = procStat(pid);
      if (!stat) continue;
      const known = this.otherProcs.get(pid);
      if (known) known.last = stat.cpu;
      else
        this.otherProcs.set(pid, {
          comm: stat.comm,
          base: baseline ? stat.cpu : 0,
          last: stat.cpu,
          background: false,
        });
    }
  }

  private snapshot(): CpuSnapshot {
    let pgBackends = 0;
    let pgBackground = 0;
    for (const p of this.pgProcs.values()) {
      if (p.background) pgBackground += p.last - p.base;
      else pgBackends += p.last - p.base;
    }
    const others: Record<string, number> = {};
    for (const p of this.otherProcs.values()) others[p.comm] = (others[p.comm] ?? 0) + p.last - p.base;
    return {
      at: performance.now(),
      node: Object.fromEntries(this.lastNode),
      pgBackends,
      pgBackground,
      machineBusy: machineBusySeconds(),
      others,
    };
  }
}

/**
 * Waits (up to `maxS`) until the machine has been nearly idle for 3 s in a row, so that a run does not
 * start in the middle of someone else's build or test run. Returns the seconds waited.
 */
export async function waitForQuiet(maxS: number, log: (line: string) => void): Promise<number> {
  const start = performance.now();
  let quiet = 0;
  let told = false;
  while ((performance.now() - start) / 1000 < maxS) {
    const before = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const cores = machineBusySeconds() - before;
    quiet = cores < 0.4 ? quiet + 1 : 0;
    if (quiet >= 3) return (performance.now() - start) / 1000;
    if (!told && (performance.now() - start) / 1000 > 5) {
      told = true;
      log(`  waiting for the machine to quieten (${cores.toFixed(1)} cores busy)...`);
    }
  }
  log(`  the machine stayed busy for ${maxS} s; running anyway (see "CPU of others")`);
  return maxS;
}
