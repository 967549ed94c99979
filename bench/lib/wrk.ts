import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * wrk (Debian's package) as the load generator: a C process of its own, so that the server keeps its
 * CPU (autocannon would spend a Node core generating the same load). Closed loop: each connection
 * sends its next request when the previous answer is in. Scenarios are Lua scripts that define
 * `request()` (a new request each time: random users, unique userNames) and may define `prepare(file)`
 * (read data at thread start) and `check(body)` (a 2xx whose body fails it counts as a miss).
 */
export interface WrkResult {
  requests: number;
  durationS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Responses by HTTP status. */
  statuses: Record<string, number>;
  /** Socket errors and timeouts (no response at all). */
  errors: { connect: number; read: number; write: number; timeout: number };
  /** 2xx responses whose body failed the scenario's check. */
  misses: number;
}

export async function wrkVersion(): Promise<string> {
  try {
    // wrk -v prints its version and the usage, and exits 1.
    const { stdout } = await promisify(execFile)('wrk', ['-v']).catch((e: { stdout?: string }) => ({
      stdout: e.stdout ?? '',
    }));
    const version = /^wrk (\S+)/m.exec(stdout)?.[1];
    if (version) return version;
  } catch {
    // fall through
  }
  throw new Error('bench:scim needs wrk on the PATH: `apt-get install -y wrk` (Debian) and run it again');
}

// Shared by every scenario: per-thread status counts and misses, gathered and printed as JSON by done().
const PRELUDE = String.raw`
local threads = {}
local next_tid = 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

statuses = {}
misses = 0
token, datafile, tag = nil, nil, nil

function init(args)
  token, datafile, tag = args[1], args[2], args[3]
  math.randomseed(tid * 7919 + os.time())
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/scim+json"
  wrk.headers["Content-Type"] = "application/scim+json"
  if prepare then prepare(datafile) end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if check and status >= 200 and status < 300 and not check(body) then misses = misses + 1 end
end

function done(summary, latency, requests)
  local agg, miss = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do agg[k] = (agg[k] or 0) + v end
    miss = miss + t:get("misses")
  end
  local parts = {}
  for k, v in pairs(agg) do table.insert(parts, string.format('"%d":%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":{%s},"misses":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ","), miss))
end
`;

export async function writeScript(file: string, scenario: string): Promise<void> {
  await writeFile(file, `${PRELUDE}\n${scenario}\n`);
}

export interface WrkRun {
  pid: number;
  result: Promise<WrkResult>;
}

interface RawResult {
  requests: number;
  durationUs: number;
  errors: WrkResult['errors'];
  latencyUs: WrkResult['latencyMs'];
  statuses: Record<string, number>;
  misses: number;
}

export function runWrk(opts: {
  url: string;
  script: string;
  /** Passed to the script's init(): token, data file, a tag unique to this run. */
  args: [string, string, string];
  connections: number;
  threads: number;
  durationS: number;
}): WrkRun {
  const child = spawn(
    'wrk',
    [
      `-t${opts.threads}`,
      `-c${opts.connections}`,
      `-d${opts.durationS}s`,
      '--timeout',
      '10s',
      '-s',
      opts.script,
      opts.url,
      '--',
      ...opts.args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error('could not start wrk');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = (async () => {
    const [code] = (await once(child, 'close')) as [number | null];
    const line = /^WRK_JSON (.*)$/m.exec(stdout)?.[1];
    if (code !== 0 || !line)
      throw new Error(`wrk exited ${code}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' / ')}`);
    const raw = JSON.parse(line) as RawResult;
    const ms = (us: number) => us / 1000;
    return {
      requests: raw.requests,
      durationS: raw.durationUs / 1e6,
      latencyMs: {
        p50: ms(raw.latencyUs.p50),
        p90: ms(raw.latencyUs.p90),
        p99: ms(raw.latencyUs.p99),
        max: ms(raw.latencyUs.max),
        mean: ms(raw.latencyUs.mean),
      },
      statuses: raw.statuses,
      errors: raw.errors,
      misses: raw.misses,
    };
  })();
  return { pid: child.pid, result };
}

/** Responses that were not 2xx, and requests that got no response at all. */
export function failures(r: WrkResult): { non2xx: number; noResponse: number } {
  const non2xx = Object.entries(r.statuses)
    .filter(([k]) => !k.startsWith('2'))
    .reduce((sum, [, v]) => sum + v, 0);
  const e = r.errors;
  return { non2xx, noResponse: e.connect + e.read + e.write + e.timeout };
}
