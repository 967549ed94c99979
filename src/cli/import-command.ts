import { InvalidArgumentError, Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Import, ImportRow } from '../api/imports.js';
import { FIELDS } from '../imports/pipeline/aliases.js';
import { CliError } from './cli-error.js';
import { columnHelp, mappingOption } from './column-help.js';
import { trimTrailingSlashes } from '../lib/text.js';
import { ProgressReporter, n, summaryLines } from './progress.js';

const say = (line: string): void => void process.stderr.write(`${line}\n`);

const POLL_MS = 300;
const POLL_TIMEOUT_MS = 30_000;
const GIVE_UP_AFTER_MS = 60_000;
const SHOW_FAILED = 100;
const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

interface ImportOpts {
  mode?: string;
  dryRun?: boolean;
  invites: boolean;
  defaultRole?: string;
  confirmDeactivations?: number;
  idempotencyKey?: string;
  map: string[];
  ignore: string[];
  sheet?: string;
  base?: string;
  token?: string;
  json?: boolean;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A small JSON client over node:http, which (unlike fetch) sets no deadline on a long upload. */
class Api {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  url(route: string): string {
    return `${this.base}${route}`;
  }

  async call<T>(
    method: string,
    route: string,
    init: Partial<SendInit> = {},
  ): Promise<{ status: number; body: T }> {
    let reply: Reply;
    try {
      reply = await send(new URL(this.url(route)), method, {
        ...init,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...init.headers },
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const e = error as NodeJS.ErrnoException;
      const why = e.code ?? e.message;
      throw new CliError(
        `the service is unreachable at ${this.base} (${why}); start it, or point --base or LOOPIT_URL at it`,
        1,
        true,
      );
    }
    if (reply.status >= 400) throw httpError(reply);
    try {
      return { status: reply.status, body: JSON.parse(reply.text) as T };
    } catch {
      throw new CliError(`${this.url(route)} did not answer JSON; is --base the Loopit Provision API?`, 1);
    }
  }
}

interface SendInit {
  body?: Readable;
  headers: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

function send(url: URL, method: string, init: SendInit): Promise<Reply> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = lib.request(url, { method, headers: init.headers, signal: init.signal }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      });
    });
    // The API may answer (413, 422) before it has read the whole upload; that answer is what counts.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    if (init.timeoutMs)
      req.setTimeout(init.timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${init.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
    if (init.body) {
      init.body.on('error', (error) => req.destroy(error));
      init.body.pipe(req);
    } else req.end();
  });
}

function httpError(reply: Reply): CliError {
  let body: { error?: Record<string, unknown> } | undefined;
  try {
    body = JSON.parse(reply.text) as typeof body;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const lines = [
    e && typeof e.code === 'string'
      ? `${reply.status} ${e.code}: ${String(e.message)}`
      : `HTTP ${reply.status}: ${reply.text.slice(0, 200) || 'no body'}`,
  ];
  if (Array.isArray(e?.missing)) lines.push(`missing columns: ${e.missing.map(String).join(', ')}`);
  if (e) lines.push(...columnHelp(e));
  if (reply.headers['retry-after']) lines.push(`retry after ${reply.headers['retry-after']} s`);
  if (typeof e?.requestId === 'string') lines.push(`request id: ${e.requestId}`);
  const retryable = reply.status >= 500 || reply.status === 429;
  return new CliError(lines.join('\n'), reply.status < 500 ? 2 : 1, retryable);
}

function wholeNumber(value: string): number {
  if (!/^\d{1,9}$/.test(value.trim())) throw new InvalidArgumentError('give a whole number of users.');
  return Number(value.trim());
}

async function checkFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new CliError(`no file at ${file}; give the path of a CSV file`, 2);
  if (!info.isFile()) throw new CliError(`${file} is not a file; give the path of a CSV file`, 2);
  await access(file, constants.R_OK).catch(() => {
    throw new CliError(`cannot read ${file}: permission denied`, 2);
  });
}

function baseUrl(given: string | undefined): string {
  const raw = given ?? process.env.LOOPIT_URL ?? `http://127.0.0.1:${process.env.PORT || 3000}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--base must be a URL such as http://127.0.0.1:3000; got '${raw}'`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--base must be an http or https URL; got '${raw}'`, 2);
  return trimTrailingSlashes(url.href);
}

function uploadQuery(file: string, opts: ImportOpts): string {
  const query = new URLSearchParams({ fileName: path.basename(file) });
  const mapping = mappingOption(opts.map);
  if (mapping) query.set('mapping', JSON.stringify(mapping));
  if (opts.ignore.length > 0) query.set('ignore', JSON.stringify(opts.ignore));
  if (opts.sheet) query.set('sheet', opts.sheet);
  if (opts.mode) query.set('mode', opts.mode);
  if (opts.dryRun) query.set('dryRun', 'true');
  if (!opts.invites) query.set('sendInvites', 'false');
  if (opts.defaultRole) query.set('defaultRole', opts.defaultRole);
  if (opts.confirmDeactivations !== undefined)
    query.set('confirmDeactivations', String(opts.confirmDeactivations));
  return query.toString();
}

/** Polls until the import ends; undefined when the user stopped watching (Ctrl-C). */
async function watch(api: Api, start: Import, signal: AbortSignal): Promise<Import | undefined> {
  const progress = new ProgressReporter(process.stderr);
  let imp = start;
  let failingSince: number | undefined;
  progress.update(imp);
  try {
    while (!TERMINAL.has(imp.status)) {
      try {
        await sleep(POLL_MS, undefined, { signal });
        const route = `/v1/imports/${imp.id}`;
        imp = (await api.call<Import>('GET', route, { signal, timeoutMs: POLL_TIMEOUT_MS })).body;
        failingSince = undefined;
        progress.update(imp);
      } catch (error) {
        if (signal.aborted) return undefined;
        if (!(error instanceof CliError) || !error.retryable) throw error;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > GIVE_UP_AFTER_MS)
          throw new CliError(`${error.message}\n${resumeHint(api, imp.id)}`, 1);
      }
    }
    return imp;
  } finally {
    progress.end();
  }
}

const resumeHint = (api: Api, id: string): string =>
  `the import goes on without the CLI; watch it again with GET ${api.url(`/v1/imports/${id}`)}` +
  ` (cancel it with POST ${api.url(`/v1/imports/${id}/cancel`)})`;

async function failedRows(
  api: Api,
  id: string,
  max = Infinity,
): Promise<{ rows: ImportRow[]; more: boolean }> {
  const rows: ImportRow[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ status: 'failed', limit: String(Math.min(1000, max)) });
    if (cursor) query.set('cursor', cursor);
    const page = await api.call<{ data: ImportRow[]; nextCursor: string | null }>(
      'GET',
      `/v1/imports/${id}/rows?${query.toString()}`,
    );
    rows.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor && rows.length < max);
  return { rows, more: cursor !== null };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function apiOf(opts: ImportOpts): Api {
  const token = opts.token ?? process.env.LOOPIT_TOKEN;
  if (!token)
    throw new CliError(
      'no token: pass --token or set LOOPIT_TOKEN to a token with the imports scope ' +
        '(token create --workspace ID --scope imports)',
      2,
    );
  return new Api(baseUrl(opts.base), token);
}

/** `import FILE`, or `import revert IMPORT_ID`. */
async function runImportCommand(file: string, importId: string | undefined, opts: ImportOpts): Promise<void> {
  if (file === 'revert' && importId !== undefined) return runRevert(importId, opts);
  if (importId !== undefined)
    throw new CliError(
      `unexpected argument '${importId}': import takes one file (or: import revert IMPORT_ID)`,
      2,
    );
  return runImport(file, opts);
}

async function runImport(file: string, opts: ImportOpts): Promise<void> {
  const api = apiOf(opts);
  await checkFile(file);
  const query = uploadQuery(file, opts);
  // Every upload carries an Idempotency-Key, so that one interrupted before the answer can be picked up
  // by sending it again: the service answers with the import it made, or takes the file if it made none.
  const key = opts.idempotencyKey ?? randomUUID();
  const interrupted = new AbortController();
  const onUploadInterrupt = (): void => interrupted.abort();
  process.once('SIGINT', onUploadInterrupt);
  let uploaded: { status: number; body: Import };
  try {
    uploaded = await api.call<Import>('POST', `/v1/imports?${query}`, {
      body: createReadStream(file),
      signal: interrupted.signal,
      headers: {
        'content-type': /\.xlsx$/i.test(file) ? XLSX_TYPE : 'text/csv',
        'idempotency-key': key,
      },
    });
  } catch (error) {
    if (!interrupted.signal.aborted) throw error;
    say(
      `upload of ${path.basename(file)} stopped before the service answered. If it had received the whole file, ` +
        `the import may have been created and goes on without the CLI. To find it (or upload, if there is none), ` +
        `run the same command with --idempotency-key ${key}: the file is never imported twice. ` +
        `Imports are listed at GET ${api.url('/v1/imports')}; cancel one with POST ${api.url('/v1/imports/ID/cancel')}.`,
    );
    throw new CliError('', 130);
  } finally {
    process.off('SIGINT', onUploadInterrupt);
  }
  const id = uploaded.body.id;
  say(
    uploaded.status === 200
      ? `import ${id} was already accepted under this idempotency key; watching it`
      : `import ${id} accepted: ${
          uploaded.body.format === 'xlsx'
            ? `sheet '${uploaded.body.sheet}' of ${path.basename(file)}, rows counted as it is converted`
            : `${n(uploaded.body.totalRows)} rows from ${path.basename(file)}`
        } (mode ${uploaded.body.mode}${uploaded.body.dryRun ? ', dry run' : ''})`,
  );
  // Before the progress bar, so they are read while there is still time to cancel.
  for (const warning of uploaded.body.warnings ?? []) say(`warning: ${warning.code}: ${warning.message}`);
  await follow(api, uploaded.body, opts);
}

/** `import revert IMPORT_ID [--dry-run]`: undoes an import, with the progress and report of an import. */
async function runRevert(importId: string, opts: ImportOpts): Promise<void> {
  const api = apiOf(opts);
  const started = await api.call<Import>('POST', `/v1/imports/${encodeURIComponent(importId)}/revert`, {
    body: Readable.from([JSON.stringify({ dryRun: opts.dryRun === true })]),
    headers: { 'content-type': 'application/json' },
  });
  say(
    `revert ${started.body.id} of import ${importId} started: ${n(started.body.totalRows)} rows to undo` +
      `${started.body.dryRun ? ' (dry run: nothing changes)' : ''}`,
  );
  await follow(api, started.body, opts);
}

/** Watches an import (or a revert) to its end, prints the summary and exits as the outcome says. */
async function follow(api: Api, start: Import, opts: ImportOpts): Promise<void> {
  const id = start.id;
  // Ctrl-C stops the watching, not the import.
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort();
  process.once('SIGINT', onInterrupt);
  let imp: Import | undefined;
  try {
    imp = await watch(api, start, stop.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  if (!imp) {
    say(`stopped watching import ${id}; ${resumeHint(api, id)}`);
    throw new CliError('', 130);
  }

  const { rows, more } =
    imp.counts.failed > 0
      ? await failedRows(api, id, opts.json ? Infinity : SHOW_FAILED)
      : { rows: [], more: false };
  if (opts.json) process.stdout.write(`${JSON.stringify({ import: imp, failedRows: rows })}\n`);
  for (const line of summaryLines(imp, opts.json ? [] : rows, more, (route) => api.url(route))) say(line);

  if (imp.status === 'failed' || imp.status === 'cancelled') {
    const why = imp.error ? `${imp.error.code}: ${imp.error.message}` : 'no reason was recorded';
    throw new CliError(`the import ${imp.status === 'failed' ? 'failed' : 'was cancelled'}: ${why}`, 1);
  }
  if (imp.counts.failed > 0 || imp.status !== 'completed')
    throw new CliError(`${n(imp.counts.failed)} of ${n(imp.totalRows)} rows failed`, 1);
}

export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'upload a CSV or Excel (.xlsx) file through the API, show its progress, then print the counts and failed rows',
    )
    .argument('<file>', 'the CSV file or Excel workbook (.xlsx); or `revert` followed by an import id')
    .addOption(
      new Option('--mode <mode>', 'create (default), upsert or sync').choices(['create', 'upsert', 'sync']),
    )
    .option('--dry-run', 'work out what would happen and write nothing')
    .option('--no-invites', 'create users without sending invitations')
    .option('--default-role <name>', 'the role for rows whose role cell is empty')
    .option('--confirm-deactivations <n>', 'sync: the number of deactivations you accept', wholeNumber)
    .option('--idempotency-key <key>', 'makes a repeated upload answer with the original import')
    .option(
      '--map <field=header>',
      `read FIELD from the column HEADER (repeat); fields: ${FIELDS.join(', ')}`,
      collect,
      [],
    )
    .option('--ignore <header>', 'a column to leave unread, without a warning (repeat)', collect, [])
    .option(
      '--sheet <name>',
      'Excel: the sheet to import, by name or position (default: the first with the columns)',
    )
    .option('--base <url>', 'the API (default: $LOOPIT_URL, else http://127.0.0.1:$PORT, port 3000 if unset)')
    .option('--token <token>', 'a token with the imports scope (default: $LOOPIT_TOKEN)')
    .option('--json', 'print {"import":...,"failedRows":[...]} on stdout')
    .argument('[importId]', 'with `revert` as FILE: the import to undo (import revert IMPORT_ID [--dry-run])')
    .action(runImportCommand);
}
