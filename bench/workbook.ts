/**
 * The .xlsx conversion benchmark: `npm run bench:xlsx -- [--sizes 100k,1m] [--keep-files]`. Writes
 * workbooks of the benchmark's rows (unique e-mails, as shared strings, after the sheet as Excel and
 * exceljs lay them out), then, in a child process with the service's heap cap, times the API's peek
 * and the worker's full read of the sheet (records only: staging them is the CSV upload's path, which
 * bench:import measures) and samples its peak RSS. Prints a Markdown table for bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchWorkbook } from './lib/csv.js';
import { parseCount } from './lib/args.js';
import { root, SERVICE_NODE_OPTIONS } from './lib/service.js';

const log = (line: string) => void process.stderr.write(`${line}\n`);

/** Runs in the child: the compiled pipeline, as the service runs it. */
const CHILD = `
import { peekWorkbook, readWorkbookRecords } from ${JSON.stringify(path.join(root, 'dist/src/imports/pipeline/workbook.js'))};
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 20);
const file = process.argv[1];
let t = performance.now();
const peek = await peekWorkbook(file);
const peekMs = performance.now() - t;
sample();
const peekRss = peak;
t = performance.now();
let rows = 0;
for await (const e of readWorkbookRecords(file, peek.sheet)) if (e.kind !== 'header') rows++;
const readMs = performance.now() - t;
sample();
clearInterval(timer);
console.log(JSON.stringify({ peekMs, peekRssMb: Math.round(peekRss / 2 ** 20), readMs, rows, peakRssMb: Math.round(peak / 2 ** 20) }));
`;

interface Measured {
  peekMs: number;
  peekRssMb: number;
  readMs: number;
  rows: number;
  peakRssMb: number;
}

function measure(file: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...SERVICE_NODE_OPTIONS.split(' '), '--input-type=module', '-e', CHILD, file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`child exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100k,1m' },
      'keep-files': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map(parseCount);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'loopit-bench-xlsx-'));
  const lines = [
    '| rows | workbook | peek (API) | peek RSS | full read (worker) | rows/s | peak RSS |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const size of sizes) {
      const file = path.join(dir, `users-${size}.xlsx`);
      let t = performance.now();
      await writeBenchWorkbook(file, size);
      const mb = (await stat(file)).size / 2 ** 20;
      log(`generated ${file} (${mb.toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      t = performance.now();
      const m = await measure(file);
      if (m.rows !== size) throw new Error(`read ${m.rows} rows of ${size}`);
      log(JSON.stringify(m));
      lines.push(
        `| ${size.toLocaleString('en')} | ${mb.toFixed(1)} MiB | ${m.peekMs.toFixed(0)} ms | ${m.peekRssMb} MB | ${(m.readMs / 1000).toFixed(1)} s | ${Math.round(size / (m.readMs / 1000)).toLocaleString('en')} | ${m.peakRssMb} MB |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (!values['keep-files']) await rm(dir, { recursive: true, force: true });
  }
}

await main();
