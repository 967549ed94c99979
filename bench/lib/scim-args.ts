import { parseArgs } from 'node:util';
import { parseCount, UsageError } from './args.js';

export const SCENARIOS = ['filter', 'get', 'patch', 'post', 'group-get', 'group-patch', 'bulk'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScimArgs {
  users: number;
  scenarios: ScenarioName[];
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  bulkOps: number;
  bulkRepeats: number;
  /** ANALYZE the bench database after seeding (autovacuum, which would do it, may be off here). */
  analyze: boolean;
  quietWaitS: number;
  /** Directory for V8 CPU profiles of the service processes (changes the numbers; off by default). */
  cpuProf: string | undefined;
  keepFiles: boolean;
  writeResults: boolean;
  argv: string[];
}

export const SCIM_USAGE = `npm run bench:scim -- [options]   (needs wrk: apt-get install -y wrk)

  --users 100000            users seeded in the workspace (a CSV import through the API, no invitations)
  --scenarios ${SCENARIOS.join(',')}
  --duration 15             seconds measured per scenario, after --warmup 5 seconds of the same load
  --connections 32          concurrent connections of wrk     --threads 1  wrk threads
  --bulk-ops 1000           operations in one Bulk request    --bulk-repeats 5  timed requests (median)
  --analyze                 ANALYZE the tables after seeding (off: this Postgres runs without autovacuum)
  --quiet-wait 60           seconds to wait before each scenario for the machine to be idle (0: no wait)
  --cpu-prof DIR            write V8 CPU profiles of the API and the worker to DIR
  --keep-files              keep the generated files          --no-results  leave bench/RESULTS.md alone`;

export function parseScimArgs(argv: string[]): ScimArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      users: { type: 'string', default: '100000' },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      threads: { type: 'string', default: '1' },
      'bulk-ops': { type: 'string', default: '1000' },
      'bulk-repeats': { type: 'string', default: '5' },
      analyze: { type: 'boolean', default: false },
      'quiet-wait': { type: 'string', default: '60' },
      'cpu-prof': { type: 'string' },
      'keep-files': { type: 'boolean', default: false },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError('');
  const scenarios = values.scenarios.split(',').filter(Boolean);
  const unknown = scenarios.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
  if (unknown.length > 0)
    throw new UsageError(`unknown scenario ${unknown.join(', ')}; scenarios are ${SCENARIOS.join(', ')}`);
  if (scenarios.length === 0) throw new UsageError('nothing to run');
  const connections = parseCount(values.connections);
  const threads = parseCount(values.threads);
  if (threads > connections) throw new UsageError('--threads must not exceed --connections');
  const bulkOps = parseCount(values['bulk-ops']);
  if (bulkOps > 1000) throw new UsageError('--bulk-ops: the service takes at most 1000 operations');
  return {
    users: parseCount(values.users),
    scenarios: SCENARIOS.filter((x) => scenarios.includes(x)),
    durationS: parseCount(values.duration),
    warmupS: values.warmup === '0' ? 0 : parseCount(values.warmup),
    connections,
    threads,
    bulkOps,
    bulkRepeats: parseCount(values['bulk-repeats']),
    analyze: values.analyze,
    quietWaitS: values['quiet-wait'] === '0' ? 0 : parseCount(values['quiet-wait']),
    cpuProf: values['cpu-prof'],
    keepFiles: values['keep-files'],
    writeResults: !values['no-results'],
    argv,
  };
}
