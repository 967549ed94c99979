import type { BulkAction, BulkAnswer, BulkStatus, User } from '../types';
import { number, plural } from '../ui';

const DONE: Record<BulkAction, string> = {
  deactivate: 'Deactivated',
  reactivate: 'Reactivated',
  resend_invitation: 'Invited again',
  set_role: 'Role set for',
  set_location: 'Location set for',
  delete: 'Deleted',
};

/** What each count means after each action. */
const COUNT_LABEL: Record<BulkAction, Partial<Record<BulkStatus, string>>> = {
  deactivate: { updated: 'deactivated', unchanged: 'already deactivated' },
  reactivate: { updated: 'reactivated', unchanged: 'were not deactivated' },
  resend_invitation: { invited: 'invited again', skipped: 'not invited, skipped' },
  set_role: { updated: 'role changed', unchanged: 'had that role already' },
  set_location: { updated: 'location changed', unchanged: 'had that location already' },
  delete: { deleted: 'deleted' },
};

const ORDER: BulkStatus[] = ['updated', 'deleted', 'invited', 'unchanged', 'skipped', 'failed'];

/** The headline of a bulk action's outcome: "Deactivated 12 of 14 people." */
export function bulkHeadline(answer: BulkAnswer): string {
  const done = answer.counts.updated + answer.counts.deleted + answer.counts.invited;
  const total = answer.results.length;
  return done === total
    ? `${DONE[answer.action]} ${plural(total, 'person', 'people')}.`
    : `${DONE[answer.action]} ${number(done)} of ${plural(total, 'person', 'people')}.`;
}

/** The per-id outcome of a bulk action: the counts, then each one that failed or was skipped, and why. */
export function BulkResult(props: { answer: BulkAnswer; users: Map<string, User>; onDismiss: () => void }) {
  const { answer, users } = props;
  const problems = answer.results.filter((r) => r.status === 'failed' || r.status === 'skipped');
  return (
    <section class="panel bulk-result" aria-labelledby="bulk-result-title">
      <div class="title-row">
        <h2 id="bulk-result-title">{bulkHeadline(answer)}</h2>
        <button type="button" class="link" onClick={props.onDismiss}>
          Dismiss
        </button>
      </div>
      <ul class="counts" aria-label="Outcome">
        {ORDER.filter((s) => answer.counts[s] > 0).map((s) => (
          <li key={s} class={`count count-${s}`}>
            <span class="n">{number(answer.counts[s])}</span> {COUNT_LABEL[answer.action][s] ?? s}
          </li>
        ))}
      </ul>
      {problems.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <caption>Not done, and why</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Outcome</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {problems.map((r) => {
                const user = users.get(r.id);
                return (
                  <tr key={r.id}>
                    <td data-label="Person">
                      <strong>{user?.name ?? r.id}</strong>
                      {user && <span class="sub">{user.email ?? 'no e-mail'}</span>}
                    </td>
                    <td data-label="Outcome">{r.status === 'failed' ? 'Failed' : 'Skipped'}</td>
                    <td data-label="Reason" class="problem">
                      <strong>{r.errorMessage ?? 'No reason was given.'}</strong>
                      {r.errorCode && <span class="code">{r.errorCode}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
