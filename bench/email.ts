/**
 * The invitation e-mail benchmark: `npm run bench:email -- --help`. For each SMTP latency and each
 * SMTP_MAX_CONNECTIONS: a fresh database and queue prefix, one API and one worker process from dist/,
 * and the tests' SMTP server acknowledging each message after the given delay (a provider that far away).
 * A CSV of N users is imported with invitations; the send rate is measured at the SMTP server, from
 * its first message to its last, and every invitation must arrive exactly once. Writes its section of
 * bench/RESULTS.md.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount } from './lib/args.js';
import { upload, type ImportView } from './lib/api.js';
import { writeBenchFiles } from './lib/csv.js';
import { argsOrExit, openHarness, runMain } from './lib/harness.js';
import { int, machineLines, markers, s, table, writeSection } from './lib/markdown.js';
import { pollImport } from './lib/run.js';
import { deleteKeys, root, runCli, SERVICE_NODE_OPTIONS } from './lib/service.js';
import { readyStack, startStack, stopStack } from './lib/stack.js';
import { startSmtp } from '../test/support/smtp.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);

const USAGE = `npm run bench:email -- [options]

  --messages 1000      invitations per run
  --delays 0,50        milliseconds the SMTP server takes to acknowledge each message
  --connections 1,5    SMTP_MAX_CONNECTIONS of the worker (messages of a slice in flight at once)
  --rate 1000          EMAIL_RATE_PER_SECOND (high, so that the limiter does not hide the capacity)
  --timeout 600        seconds before a run is given up
  --no-results         print only; leave bench/RESULTS.md alone`;

interface Args {
  messages: number;
  delays: number[];
  connections: number[];
  rate: number;
  timeoutS: number;
  writeResults: boolean;
  argv: string[];
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      messages: { type: 'string', default: '1000' },
      delays: { type: 'string', default: '0,50' },
      connections: { type: 'string', default: '1,5' },
      rate: { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '600' },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new Error('');
  const list = (text: string) => text.split(',').filter(Boolean).map(Number);
  const delays = list(values.delays);
  const connections = list(values.connections);
  if (delays.some((d) => !Number.isInteger(d) || d < 0 || d > 10_000))
    throw new Error('--delays are whole milliseconds from 0 to 10000');
  if (connections.some((c) => !Number.isInteger(c) || c < 1 || c > 50))
    throw new Error('--connections are whole numbers from 1 to 50');
  return {
    messages: parseCount(values.messages),
    delays,
    connections,
    rate: parseCount(values.rate),
    timeoutS: parseCount(values.timeout),
    writeResults: !values['no-results'],
    argv,
  };
}

interface Result {
  delayMs: number;
  connections: number;
  received: number;
  distinct: number;
  seconds: number | undefined;
  perSecond: number | undefined;
  note: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const opts = argsOrExit(parse, USAGE, log);
  const h = await openHarness(log, { keepFiles: false });
  const results: Result[] = [];
  try {
    const file = path.join(h.tmp, `users-${opts.messages}.csv`);
    await writeBenchFiles(file, opts.messages);
    let run = 0;
    for (const delayMs of opts.delays) {
      for (const connections of opts.connections) {
        run += 1;
        log(`run: SMTP ${delayMs} ms away, SMTP_MAX_CONNECTIONS=${connections}`);
        const dbName = h.own(`lp_bench_${h.suffix}_${run}`);
        const databaseUrl = h.urlOf(dbName);
        await runCli(['migrate'], { DATABASE_URL: databaseUrl });
        const sink = await startSmtp({ dataDelayMs: delayMs, keepRaw: false });
        const ctx = {
          databaseUrl,
          redisUrl: h.redisUrl,
          queuePrefix: `{lpbench-${h.suffix}-${run}}`,
          serviceEnv: {
            NODE_OPTIONS: SERVICE_NODE_OPTIONS,
            SMTP_URL: sink.url,
            INVITATION_SECRET: 'bench-invitation-secret-0123456789abcdef',
            SMTP_MAX_CONNECTIONS: String(connections),
            EMAIL_RATE_PER_SECOND: String(opts.rate),
          },
          cpuProf: undefined,
          live: h.live,
        };
        const stack = await startStack(ctx, `email-${run}`, 1);
        const result: Result = {
          delayMs,
          connections,
          received: 0,
          distinct: 0,
          seconds: undefined,
          perSecond: undefined,
          note: '',
        };
        try {
          await readyStack(ctx, stack);
          const t0 = performance.now();
          const res = await upload(stack.baseUrl, stack.token, file);
          if (res.status !== 202) throw new Error(`upload answered ${res.status}`);
          const { view } = await pollImport(stack, res.body as ImportView, {
            t0,
            timeoutS: opts.timeoutS,
            tag: `email-${run}`,
            log,
          });
          if (view.counts.invited !== opts.messages)
            throw new Error(`the import queued ${view.counts.invited} invitations, not ${opts.messages}`);
          let lastLog = performance.now();
          while (sink.received.length < opts.messages) {
            if (performance.now() - t0 > opts.timeoutS * 1000) throw new Error('timed out');
            if (performance.now() - lastLog > 10_000) {
              lastLog = performance.now();
              log(`  ${sink.received.length} of ${opts.messages} received`);
            }
            await sleep(50);
          }
          await sleep(500); // a duplicate would arrive now
          const first = sink.received[0]!.at;
          const last = sink.received[sink.received.length - 1]!.at;
          result.seconds = (last - first) / 1000;
          result.perSecond = (sink.received.length - 1) / result.seconds;
        } catch (error) {
          result.note = error instanceof Error ? error.message : String(error);
          log(`  failed: ${result.note}`);
        } finally {
          result.received = sink.received.length;
          result.distinct = new Set(sink.received.map((m) => m.messageId)).size;
          if (result.received !== result.distinct)
            result.note ||= `${result.received - result.distinct} messages arrived twice`;
          await stopStack(ctx, stack);
          await sink.close();
          await h.dropDatabase(dbName);
          await deleteKeys(h.redisUrl, `${ctx.queuePrefix}:*`).catch(() => undefined);
        }
        log(
          `  ${result.received} received (${result.distinct} distinct), ${s(result.perSecond, 0)} a second`,
        );
        results.push(result);
      }
    }
    const command = ['npm run bench:email', ...(opts.argv.length ? ['--', ...opts.argv] : [])].join(' ');
    const { start, end } = markers('email');
    const section = [
      start,
      '## Invitation e-mail (`npm run bench:email`)',
      '',
      ...machineLines(command, h.machine),
      `Service: one API and one worker from \`dist/\`, EMAIL_RATE_PER_SECOND=${opts.rate}, ${opts.messages} invitations queued by a CSV import; the rate is measured at the SMTP server from its first message to its last.`,
      '',
      table(
        [
          'SMTP server latency (ms)',
          'SMTP_MAX_CONNECTIONS',
          'received',
          'distinct',
          'first → last (s)',
          'e-mails/s',
          'note',
        ],
        results.map((r) => [
          String(r.delayMs),
          String(r.connections),
          int(r.received),
          int(r.distinct),
          s(r.seconds),
          r.perSecond === undefined ? '–' : int(r.perSecond),
          r.note || '–',
        ]),
      ),
      end,
    ].join('\n');
    process.stdout.write(`\n${section}\n`);
    if (opts.writeResults) {
      await writeSection(path.join(root, 'bench/RESULTS.md'), 'email', section);
      log('bench/RESULTS.md updated');
    }
    return results.every((r) => !r.note) ? 0 : 1;
  } finally {
    await h.cleanup();
  }
}

runMain(main, log);
