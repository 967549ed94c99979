import type { Db } from '../db/index.js';
import type { BulkAction, BulkAnswer, BulkResult } from '../api/users.js';
import { badRequest } from '../lib/errors.js';
import { provision, type ProvisionItem } from '../provisioning/engine.js';
import { resendMany } from '../provisioning/invitations.js';
import type { Actor } from './users.service.js';

/** The answer, and whether at least one invitation was queued (the caller wakes the e-mail drain). */
type Outcome = BulkAnswer & { invited: boolean };

function itemOf(
  action: Exclude<BulkAction, 'resend_invitation'>,
  id: string,
  value: string | null,
): ProvisionItem {
  const base = { key: id, userId: id };
  if (action === 'deactivate') return { ...base, op: 'patch', active: false };
  if (action === 'reactivate') return { ...base, op: 'patch', active: true };
  if (action === 'delete') return { ...base, op: 'delete' };
  if (action === 'set_role') return { ...base, op: 'patch', role: value! };
  return { ...base, op: 'patch', location: value };
}

const tally = (results: BulkResult[]): BulkAnswer['counts'] => {
  const counts = { updated: 0, unchanged: 0, deleted: 0, invited: 0, skipped: 0, failed: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
};

/**
 * One action on up to 1,000 users, run through the engine as one batch (set-based, journaled with
 * source `bulk`), answered per id: a user another workspace owns, or none, is `failed` `not_found`,
 * exactly as an id that never existed, so nothing about other workspaces shows.
 */
export async function bulkUsers(
  db: Db,
  actor: Actor,
  input: { action: BulkAction; ids: string[]; value?: string | null | undefined },
): Promise<Outcome> {
  const { action } = input;
  const ids = input.ids.map((id) => id.toLowerCase());
  if (action === 'set_role' && (typeof input.value !== 'string' || input.value.trim() === '')) {
    throw badRequest('missing_value', 'set_role needs value: the name of a role of this workspace.', {
      field: 'value',
    });
  }
  if (action === 'set_location' && input.value === undefined) {
    throw badRequest('missing_value', 'set_location needs value: a location name, or null for none.', {
      field: 'value',
    });
  }
  if (action !== 'set_role' && action !== 'set_location' && input.value !== undefined) {
    throw badRequest('unexpected_value', `${action} takes no value.`, { field: 'value' });
  }
  const by = { actor: actor.actor, source: 'bulk' };

  if (action === 'resend_invitation') {
    const sent = new Set(await resendMany(db, actor.workspaceId, ids, by));
    const results = ids.map((id): BulkResult =>
      sent.has(id)
        ? { id, status: 'invited', errorCode: null, errorMessage: null }
        : {
            id,
            status: 'skipped',
            errorCode: 'user_not_invited',
            errorMessage:
              'Not an invited user of this workspace (active, deactivated, deleted or unknown): no invitation was sent.',
          },
    );
    return { action, results, counts: tally(results), invited: sent.size > 0 };
  }

  const outcomes = await provision(
    db,
    actor.workspaceId,
    ids.map((id) => itemOf(action, id, input.value ?? null)),
    { mode: 'upsert', dryRun: false, sendInvites: true, source: 'bulk', actor: actor.actor },
  );
  const results = outcomes.map((r): BulkResult => {
    // A deactivation is an update of the status; the action names what was done.
    const status = r.status === 'deactivated' ? 'updated' : r.status;
    const ok = status === 'updated' || status === 'unchanged' || status === 'deleted';
    return {
      id: r.key,
      status: ok ? status : status === 'skipped' ? 'skipped' : 'failed',
      errorCode: ok ? null : (r.errorCode ?? 'internal_error'),
      errorMessage: ok ? null : (r.errorMessage ?? null),
    };
  });
  return {
    action,
    results,
    counts: tally(results),
    invited: outcomes.some((r) => r.invitation === 'queued'),
  };
}
