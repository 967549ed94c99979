import { parseArgs } from 'node:util';

/** One measured import: a file of `size` rows against `workers` worker processes. */
export interface Plan {
  size: number;
  workers: number;
}

export interface BenchArgs {
  runs: Plan[];
  /** Rows of the COPY floor (the issue compares the 100k end-to-end time with it). */
  floorRows: number;
  floorRepeats: number;
  /** A run still going after this many seconds is stopped and recorded as partial. */
  timeoutS: number;
  /** Seconds to wait before each run for the shared machine to be idle (0: do not wait). */
  quietWaitS: number;
  keepFiles: boolean;
  writeResults: boolean;
  /** Directory for V8 CPU profiles of the service processes (changes the timings; off by default). */
  cpuProf: string | undefined;
  /**
   * Rows of an untimed import (no invitations) each run sends first, so that the timed import meets
   * warm processes and connections as a long-running service would (0: none, every process cold).
   */
  warmupRows: number;
  /** What is uploaded: the CSV, or the same rows as an Excel workbook (results are then printed only). */
  format: 'csv' | 'xlsx';
  /** The arguments as given, to print the command that produced the results. */
  argv: string[];
}

export const DEFAULT_RUNS = '10000x1,10000x2,100000x1,100000x2,1000000x1';

export const USAGE = `npm run bench:import -- [options]

  --sizes 10000,100000      file sizes (10k, 1m accepted); with --workers, every combination
  --workers 1,2             worker processes per run
  --runs 10000x1,100000x2   explicit size x workers list (default ${DEFAULT_RUNS})
  --floor-rows 100000       rows of the raw COPY floor       --floor-repeats 3
  --timeout 600             seconds before a run is stopped and recorded as partial
  --quiet-wait 120          seconds to wait before each run for the machine to be idle (0: no wait)
  --warmup 0                rows of an untimed import (no invitations) run first on the same processes,
                            so the timed one meets warm processes (default 0: cold)
  --cpu-prof DIR            write V8 CPU profiles of the service processes to DIR
  --keep-files              keep the generated CSV files     --no-results  leave bench/RESULTS.md alone
  --format xlsx             upload the same rows as an Excel workbook (prints, never writes RESULTS.md)

  SERVICE_NODE_OPTIONS=...  NODE_OPTIONS of the service processes (default: the image's heap cap;
                            empty: none)`;

export class UsageError extends Error {}

/** 10000, 10k, 1m, 1M, 1_000_000. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim().replaceAll('_', ''));
  if (!m) throw new UsageError(`not a count: '${text}'`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1_000 : 1_000_000);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`not a positive whole count: '${text}'`);
  return n;
}

const list = (text: string): number[] => text.split(',').filter(Boolean).map(parseCount);

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string' },
      workers: { type: 'string' },
      runs: { type: 'string' },
      'floor-rows': { type: 'string', default: '100000' },
      'floor-repeats': { type: 'string', default: '3' },
      timeout: { type: 'string', default: '600' },
      'quiet-wait': { type: 'string', default: '120' },
      'cpu-prof': { type: 'string' },
      warmup: { type: 'string', default: '0' },
      'keep-files': { type: 'boolean', default: false },
      format: { type: 'string', default: 'csv' },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError('');
  const explicit = values.sizes === undefined && values.workers === undefined;
  if (values.runs !== undefined && !explicit) throw new UsageError('give either --runs or --sizes/--workers');
  let runs: Plan[];
  if (explicit) {
    runs = (values.runs ?? DEFAULT_RUNS).split(',').map((spec) => {
      const [size, workers, extra] = spec.split('x');
      if (size === undefined || workers === undefined || extra !== undefined)
        throw new UsageError(`--runs item '${spec}' is not SIZExWORKERS`);
      return { size: parseCount(size), workers: parseCount(workers) };
    });
  } else {
    const sizes = list(values.sizes ?? '10000,100000,1000000');
    const workers = list(values.workers ?? '1,2');
    runs = sizes.flatMap((size) => workers.map((w) => ({ size, workers: w })));
  }
  if (runs.length === 0) throw new UsageError('nothing to run');
  if (values.format !== 'csv' && values.format !== 'xlsx') throw new UsageError('--format is csv or xlsx');
  if (runs.some((r) => r.workers > 8)) throw new UsageError('at most 8 worker processes');
  return {
    runs,
    floorRows: parseCount(values['floor-rows']),
    floorRepeats: parseCount(values['floor-repeats']),
    timeoutS: parseCount(values.timeout),
    quietWaitS: values['quiet-wait'] === '0' ? 0 : parseCount(values['quiet-wait']),
    warmupRows: values.warmup === '0' ? 0 : parseCount(values.warmup),
    keepFiles: values['keep-files'],
    // bench/RESULTS.md's import section is the CSV's; a workbook run prints its section only.
    writeResults: !values['no-results'] && values.format === 'csv',
    format: values.format,
    cpuProf: values['cpu-prof'],
    argv,
  };
}
