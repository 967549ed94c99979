import { readFile, writeFile } from 'node:fs/promises';
import type { MachineInfo } from './machine.js';

/** Markdown helpers shared by the benchmarks' sections of bench/RESULTS.md. */

export const s = (x: number | undefined, digits = 2) => (x === undefined ? '–' : x.toFixed(digits));
export const int = (x: number) => Math.round(x).toLocaleString('en-US');
export const rows = (n: number) =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n);

export const table = (head: string[], body: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The `n` largest shares of `counts`, as `42% \`key\`` (the key escaped for a table or a list). */
export const top = (counts: Record<string, number>, n: number) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return ['none'];
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${Math.round((v / total) * 100)}% \`${k.replaceAll('`', "'").replaceAll('|', '/')}\``);
};

/** CPU seconds of the other processes on the machine: the total and the three largest by name. */
export function othersText(others: Record<string, number>): string {
  const list = Object.entries(others)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  const total = list.reduce((sum, [, v]) => sum + v, 0);
  return `${s(total)}${
    list.length
      ? ` (${list
          .slice(0, 3)
          .map(([k, v]) => `${k} ${s(v, 1)}`)
          .join(', ')})`
      : ''
  }`;
}

/** The command, date, commit and machine lines that open every section. */
export function machineLines(command: string, m: MachineInfo): string[] {
  const dirty =
    m.dirtyElsewhere.length === 0
      ? 'clean outside bench/'
      : `**dirty**: ${m.dirtyElsewhere.length} paths changed outside bench/ (${m.dirtyElsewhere.slice(0, 8).join(', ')}${m.dirtyElsewhere.length > 8 ? ', ...' : ''})`;
  return [
    `Command: \`${command}\`  `,
    `Date: ${m.date}; commit \`${m.commit}\`, tree ${dirty}.  `,
    `Machine: ${m.nproc} × ${m.cpus}, ${m.memoryGiB} GiB; Node ${m.node}; PostgreSQL ${m.postgres}; Redis ${m.redis}, both local.  `,
    `Postgres settings: ${m.pgSettings}.  `,
  ];
}

/** Markers around the generated section of one benchmark, e.g. `<!-- bench:import:start -->`. */
export const markers = (name: string) => ({
  start: `<!-- bench:${name}:start -->`,
  end: `<!-- bench:${name}:end -->`,
});

/**
 * Replaces the generated section between `bench:<name>:start` and `:end` in bench/RESULTS.md, keeping
 * what is written around it (the notes by hand); appends the section when the markers are missing.
 */
export async function writeSection(file: string, name: string, section: string): Promise<void> {
  const { start: START, end: END } = markers(name);
  let text = await readFile(file, 'utf8').catch(() => '# Benchmark results\n');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start >= 0 && end > start) text = text.slice(0, start) + section + text.slice(end + END.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, text);
}
