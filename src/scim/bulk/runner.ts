import type { Transaction } from 'kysely';
import type { Database, Db, DbOrTx } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { provision, type ProvisionItem, type ProvisionResult } from '../../provisioning/engine.js';
import type { EngineLogger } from '../../provisioning/types.js';
import { runGroupOperation } from './groups.js';
import { referencesOf, resolveReferences } from './refs.js';
import * as repo from './bulk.repository.js';
import { failure, isFailure, type BulkOperation, type BulkOpResult, type BulkRunContext } from './types.js';
import { prepareUserEntries, unexpected, userOutcome, type Entry } from './users.js';
import { scimWriteSettings, type ScimWriteSettings } from '../resources/users.repository.js';
import { scimWriteOptions } from '../resources/users.service.js';

export interface BulkRunDeps {
  db: Db;
  publicUrl: string;
  /** Most engine items per provision() call (BATCH_SIZE). */
  batchSize: number;
  log: EngineLogger;
  /** True once the worker is shutting down: the run stops between batches; a retry continues it. */
  shouldStop?: () => boolean;
}

/**
 * Tries of a PATCH (sent without a version) that keeps meeting concurrent writes of its user. Only the
 * PATCHes that lost a race are tried again; the rest of their batch commits.
 */
const PATCH_ATTEMPTS = 20;

/** Thrown from inside a batch's transaction to roll it back: past failOnErrors, or another run won. */
class Interrupt extends Error {
  constructor(
    readonly kind: 'truncate' | 'superseded',
    readonly cut = -1,
  ) {
    super(`bulk run interrupted: ${kind}`);
  }
}

/**
 * One run of a staged Bulk request. Operations run in waves: each wave holds every operation whose
 * bulkId references are resolved (so a forward reference waits for the POST it names), in request
 * order; consecutive user operations of a wave go to the engine together, one provision() call per
 * batch. Results are written with each batch's users, so a re-run continues where a crash stopped.
 */
class BulkRun {
  readonly results = new Map<number, BulkOpResult>();
  errors = 0;
  invited = 0;
  batches = 0;
  private readonly definers = new Map<string, number>();
  private readonly refs: Set<string>[];

  constructor(
    private readonly deps: BulkRunDeps,
    private readonly workspaceId: string,
    private readonly ctx: BulkRunContext,
    private readonly settings: ScimWriteSettings,
    private readonly ops: BulkOperation[],
    stored: Record<string, BulkOpResult>,
    private readonly limit: number | undefined,
  ) {
    this.load(stored);
    ops.forEach((op, index) => {
      if (op.method === 'POST' && op.bulkId !== undefined) this.definers.set(op.bulkId, index);
    });
    this.refs = ops.map(referencesOf);
  }

  private load(stored: Record<string, BulkOpResult>): void {
    this.results.clear();
    this.errors = 0;
    for (const [k, v] of Object.entries(stored)) this.apply(Number(k), v);
  }

  private apply(index: number, result: BulkOpResult): void {
    this.results.set(index, result);
    if (isFailure(result)) this.errors += 1;
  }

  stopped(): boolean {
    return this.limit !== undefined && this.errors >= this.limit;
  }

  async run(): Promise<void> {
    while (!this.stopped()) {
      const wave = this.nextWave();
      if (wave.length === 0) return;
      await this.runWave(wave);
    }
  }

  /** The operations that can run now, in request order; with none, what is left is circular. */
  private nextWave(): Entry[] {
    const ids = new Map<string, string>();
    for (const [bulkId, index] of this.definers) {
      const r = this.results.get(index);
      if (r && !isFailure(r) && r.id) ids.set(bulkId, r.id);
    }
    const ready: Entry[] = [];
    const blocked: number[] = [];
    next: for (const [index, op] of this.ops.entries()) {
      if (this.results.has(index)) continue;
      let waiting = false;
      for (const ref of this.refs[index]!) {
        const definer = this.definers.get(ref);
        const defined = definer === undefined ? undefined : this.results.get(definer);
        if (definer === undefined) {
          const error = new ScimError(
            400,
            'invalidValue',
            `bulkId '${ref}' is not the bulkId of a POST in this request.`,
          );
          ready.push({ index, op, result: failure(op, error) });
          continue next;
        }
        if (!defined) waiting = true;
        else if (!ids.has(ref)) {
          const error = new ScimError(
            409,
            undefined,
            `bulkId '${ref}' cannot be resolved: Operations[${definer}], which creates it, failed.`,
          );
          ready.push({ index, op, result: failure(op, error) });
          continue next;
        }
      }
      if (waiting) blocked.push(index);
      else ready.push({ index, op: resolveReferences(op, ids) });
    }
    if (ready.length > 0) return ready;
    return blocked.map((index) => {
      const op = this.ops[index]!;
      const error = new ScimError(
        409,
        undefined,
        `The bulkId references of Operations[${index}] (${[...this.refs[index]!].join(', ')}) are circular or depend on a circular reference; send these operations in separate requests.`,
      );
      return { index, op, result: failure(op, error) };
    });
  }

  private async runWave(entries: Entry[]): Promise<void> {
    let batch: Entry[] = [];
    let mode: 'create' | 'upsert' = 'create';
    let engine = 0;
    const targets = new Set<string>();
    const flush = async () => {
      if (batch.length > 0) await this.runBatch(batch, mode);
      batch = [];
      engine = 0;
      targets.clear();
    };
    for (const entry of entries) {
      if (entry.result) {
        batch.push(entry);
        continue;
      }
      if (entry.op.resource === 'Groups') {
        await flush();
        if (this.stopped()) return;
        const group = await runGroupOperation(this.deps.db, this.workspaceId, entry.op, this.ctx, (tx, r) =>
          this.recordIn(tx, { [entry.index]: r }),
        );
        if (group.recorded) this.apply(entry.index, group.result);
        else await this.record([{ ...entry, result: group.result }]);
        if (this.stopped()) return;
        continue;
      }
      const m = entry.op.method === 'POST' ? 'create' : 'upsert';
      const target = entry.op.id;
      // A user is written once per batch (a second operation on it sees the first), in one mode.
      if (engine > 0 && (m !== mode || (target && targets.has(target)) || engine >= this.deps.batchSize)) {
        await flush();
        if (this.stopped()) return;
      }
      mode = m;
      if (target) targets.add(target);
      engine += 1;
      batch.push(entry);
    }
    await flush();
  }

  /** Where failOnErrors is reached in `list` (given what is known of it), or -1. */
  private cutOf(list: Entry[], known: (e: Entry) => BulkOpResult | undefined): number {
    if (this.limit === undefined) return -1;
    let errors = this.errors;
    for (const [k, e] of list.entries()) {
      const r = known(e);
      if (r && isFailure(r) && ++errors >= this.limit) return k;
    }
    return -1;
  }

  private async runBatch(entries: Entry[], mode: 'create' | 'upsert'): Promise<void> {
    if (this.deps.shouldStop?.())
      throw new Error('worker shutting down; the Bulk request continues on the next run');
    await prepareUserEntries(this.deps, this.workspaceId, entries);
    // A failure known now ends the request there: nothing after it may reach the engine.
    const early = this.cutOf(entries, (e) => e.result);
    let list = early >= 0 ? entries.slice(0, early + 1) : entries;
    for (let attempt = 1; ; attempt += 1) {
      const engine = list.filter((e) => e.item);
      if (engine.length === 0) return this.record(list);
      const seen = new Map<string, ProvisionResult>();
      const raced = new Set<string>();
      const current = list;
      const inTransaction = async (
        tx: Transaction<Database>,
        items: ProvisionItem[],
        res: ProvisionResult[],
      ) => {
        // A PATCH sent without a version that lost a race with another write wrote nothing: it is applied
        // again to the new state after this transaction, which commits the others.
        items.forEach((item, i) => {
          const lost = item.optimistic && res[i]!.errorCode === 'precondition_failed';
          if (lost && attempt < PATCH_ATTEMPTS) raced.add(item.key);
          else seen.set(item.key, res[i]!);
        });
        const known = (e: Entry) => {
          const r = e.item ? seen.get(e.item.key) : undefined;
          return e.result ?? (r ? userOutcome(e.op, r) : undefined);
        };
        const cut = this.cutOf(current, known);
        const mine = new Set(items.map((i) => i.key));
        if (cut >= 0 && current.slice(cut + 1).some((e) => e.item && mine.has(e.item.key)))
          throw new Interrupt('truncate', cut);
        const out: Record<string, BulkOpResult> = {};
        for (const e of current)
          if (e.item && mine.has(e.item.key) && !raced.has(e.item.key)) out[e.index] = known(e)!;
        if (!(await repo.recordBulkResults(tx, this.workspaceId, this.ctx.requestId, out, 1)))
          throw new Interrupt('superseded');
      };
      try {
        const results = await provision(
          this.deps.db,
          this.workspaceId,
          engine.map((e) => e.item!),
          scimWriteOptions(this.ctx.actor, this.settings, mode, this.ctx.source),
          this.deps.log,
          inTransaction,
        );
        this.batches += 1;
        const lost = (e: Entry) => raced.has(e.item!.key);
        const outcomes = new Map(
          engine.flatMap((e, i) => (lost(e) ? [] : [[e, userOutcome(e.op, results[i]!)] as const])),
        );
        const cut = this.cutOf(list, (e) => e.result ?? outcomes.get(e));
        for (const [i, e] of engine.entries()) {
          if (lost(e)) continue;
          this.apply(e.index, outcomes.get(e)!);
          if (results[i]!.invitation === 'queued') this.invited += 1;
        }
        // The engine results are recorded (in their transactions); what failed before the engine is not yet.
        const within = cut >= 0 ? list.slice(0, cut + 1) : list;
        await this.record(within.filter((e) => !e.item));
        const again = within.filter((e) => e.item && lost(e));
        if (again.length === 0) return;
        // The PATCHes that lost a race: read their users again and apply them to what is there now.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
        for (const e of again) delete e.item;
        await prepareUserEntries(this.deps, this.workspaceId, again);
        list = again;
      } catch (error) {
        if (!(error instanceof Interrupt) || error.kind === 'superseded') throw error;
        // Batches the engine split off and committed before the cut are in Postgres: read them back.
        const stored = await repo.bulkResults(this.deps.db, this.workspaceId, this.ctx.requestId);
        this.load(stored?.results ?? {});
        const kept = error.kind === 'truncate' ? list.slice(0, error.cut + 1) : list;
        list = kept.filter((e) => !this.results.has(e.index));
      }
    }
  }

  /** Records results known without a write of their own (their own small write). */
  private async record(entries: Entry[]): Promise<void> {
    const out: Record<string, BulkOpResult> = {};
    for (const e of entries) if (e.result) out[e.index] = e.result;
    await this.recordIn(this.deps.db, out);
    for (const e of entries) if (e.result) this.apply(e.index, e.result);
  }

  /** Records results in the caller's transaction; another run that recorded one first rolls it back. */
  private async recordIn(tx: DbOrTx, out: Record<string, BulkOpResult>): Promise<void> {
    if (!(await repo.recordBulkResults(tx, this.workspaceId, this.ctx.requestId, out, 0)))
      throw new Interrupt('superseded');
  }
}

export interface BulkRunOutcome {
  ran: boolean;
  invited: number;
  batches: number;
  errors: number;
}

/**
 * Runs a staged Bulk request to the end (or to failOnErrors) and marks it done. Idempotent: a done
 * request is skipped, and operations already recorded are not run again.
 */
export async function runBulkRequest(
  deps: BulkRunDeps,
  workspaceId: string,
  requestId: string,
): Promise<BulkRunOutcome> {
  const row = await repo.startBulkRequest(deps.db, workspaceId, requestId);
  if (!row) return { ran: false, invited: 0, batches: 0, errors: 0 };
  const ctx: BulkRunContext = { requestId, actor: row.actor, source: 'scim' };
  const settings = await scimWriteSettings(deps.db, workspaceId);
  const run = new BulkRun(
    deps,
    workspaceId,
    ctx,
    settings,
    row.operations,
    row.results,
    row.fail_on_errors ?? undefined,
  );
  try {
    await run.run();
  } catch (error) {
    if (error instanceof Interrupt && error.kind === 'superseded')
      return { ran: false, invited: run.invited, batches: run.batches, errors: run.errors };
    throw error;
  }
  await repo.finishBulkRequest(deps.db, workspaceId, requestId);
  return { ran: true, invited: run.invited, batches: run.batches, errors: run.errors };
}

/** After the last attempt failed: every operation without a result answers 500, and the request is done. */
export async function abandonBulkRequest(db: Db, workspaceId: string, requestId: string): Promise<void> {
  const row = await repo.startBulkRequest(db, workspaceId, requestId);
  if (!row) return;
  const out: Record<string, BulkOpResult> = {};
  row.operations.forEach((op, index) => {
    if (!row.results[index]) out[index] = failure(op, unexpected());
  });
  await repo.recordBulkResults(db, workspaceId, requestId, out, 0);
  await repo.finishBulkRequest(db, workspaceId, requestId);
}
