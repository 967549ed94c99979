import type { Import, ImportRow } from '../api/imports.js';

const BAR_WIDTH = 24;
const LINE_EVERY_MS = 2000;

export const n = (value: number): string => value.toLocaleString('en-US');

export function percent(imp: Pick<Import, 'processedRows' | 'totalRows'>): number {
  if (imp.totalRows === 0) return 0;
  return Math.min(100, Math.floor((imp.processedRows / imp.totalRows) * 100));
}

export function bar(pct: number, width = BAR_WIDTH): string {
  const filled = Math.round((pct / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** One progress line: status, percentage, rows, rate (rows/s, null while unknown) and the main counts. */
export function describeProgress(imp: Import, rate: number | null): string {
  const { created, updated, failed, deleted } = imp.counts;
  const converting = imp.format === 'xlsx' && imp.totalRows === 0;
  if (imp.status === 'queued')
    return converting
      ? `queued: workbook sheet '${imp.sheet}', waiting for a worker`
      : `queued: ${n(imp.totalRows)} rows, waiting for a worker`;
  if (converting) return `reading workbook sheet '${imp.sheet}' into rows`;
  const speed = rate === null ? '– rows/s' : `${n(Math.round(rate))} rows/s`;
  return (
    `${percent(imp)}% ${n(imp.processedRows)}/${n(imp.totalRows)} rows · ${speed} · ` +
    (imp.kind === 'revert'
      ? `deleted ${n(deleted)} · restored ${n(updated)} · failed ${n(failed)}`
      : `created ${n(created)} · updated ${n(updated)} · failed ${n(failed)}`)
  );
}

/**
 * The end of an import as lines for stderr: status, counts, a warning the import carries, the failed
 * rows given, and where to find the rest. `url` turns an API route into a full URL.
 */
export function summaryLines(
  imp: Import,
  rows: ImportRow[],
  more: boolean,
  url: (route: string) => string,
): string[] {
  const c = imp.counts;
  const took =
    imp.startedAt && imp.finishedAt
      ? ` in ${((Date.parse(imp.finishedAt) - Date.parse(imp.startedAt)) / 1000).toFixed(1)} s`
      : '';
  const lines = [
    `${imp.kind === 'revert' ? `revert of import ${imp.revertOf}:` : 'import'} ${imp.id} ${imp.status}` +
      `${imp.dryRun ? ' (dry run)' : ''}: ${n(imp.totalRows)} rows${took}`,
    imp.kind === 'revert'
      ? `  deleted ${n(c.deleted)} · restored ${n(c.updated)} · unchanged ${n(c.unchanged)}` +
        ` · left alone (changed since) ${n(c.skipped)} · failed ${n(c.failed)}`
      : `  created ${n(c.created)} · updated ${n(c.updated)} · unchanged ${n(c.unchanged)} · skipped ${n(c.skipped)}` +
        ` · failed ${n(c.failed)} · deactivated ${n(c.deactivated)} · invited ${n(c.invited)}`,
  ];
  if (imp.error && imp.status !== 'failed') lines.push(`warning: ${imp.error.code}: ${imp.error.message}`);
  if (rows.length > 0) {
    lines.push('failed rows:');
    const rowWidth = Math.max(...rows.map((r) => String(r.row ?? '-').length));
    const emailWidth = Math.min(40, Math.max(...rows.map((r) => (r.email ?? '(no e-mail)').length)));
    for (const r of rows)
      lines.push(
        `  row ${String(r.row ?? '-').padStart(rowWidth)}  ${(r.email ?? '(no e-mail)').padEnd(emailWidth)}  ` +
          `${r.errorCode ?? 'error'}: ${r.errorMessage ?? ''}`,
      );
  }
  if (more)
    lines.push(
      `… and ${n(Math.max(1, c.failed - rows.length))} more failed rows; every row's outcome is in the report: ` +
        `curl -H "Authorization: Bearer $LOOPIT_TOKEN" -o report.csv ${url(`/v1/imports/${imp.id}/report.csv`)}`,
    );
  if (imp.dryRun && imp.status === 'completed')
    lines.push(
      `dry run: nothing was written; run it for real with POST ${url(`/v1/imports/${imp.id}/apply`)}`,
    );
  return lines;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Shows an import's progress on stderr: a bar redrawn in place (`\r`) on a terminal, otherwise a
 * plain line at most every two seconds, so logs and CI output stay readable.
 */
export class ProgressReporter {
  private first: { at: number; rows: number } | undefined;
  private lastLineAt: number | undefined;
  private drawn = false;

  constructor(
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {}

  update(imp: Import): void {
    const at = this.now();
    if (imp.status !== 'queued' && !this.first) this.first = { at, rows: imp.processedRows };
    const elapsed = this.first ? (at - this.first.at) / 1000 : 0;
    const rate = this.first && elapsed >= 0.5 ? (imp.processedRows - this.first.rows) / elapsed : null;
    const text = describeProgress(imp, rate);
    if (this.out.isTTY) {
      const line = `${bar(percent(imp))} ${text}`.slice(0, Math.max(20, (this.out.columns || 80) - 1));
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else if (this.lastLineAt === undefined || at - this.lastLineAt >= LINE_EVERY_MS) {
      this.out.write(`progress: ${text}\n`);
      this.lastLineAt = at;
    }
  }

  /** Ends the redrawn line so what follows starts on a fresh one. */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
