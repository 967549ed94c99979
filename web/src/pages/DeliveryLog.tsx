import { useEffect, useState } from 'preact/hooks';
import { api, query, type Page } from '../api';
import { EVENT_LABEL } from '../hints';
import { usePaged } from '../hooks';
import type { WebhookDelivery } from '../types';
import { Badge, ErrorBox, Pager, when } from '../ui';

const STATUSES = [
  { value: '', label: 'All' },
  { value: 'pending', label: 'Pending' },
  { value: 'succeeded', label: 'Delivered' },
  { value: 'failed', label: 'Failed' },
];

/**
 * One endpoint's deliveries, newest first: the event, the status, the attempts, the last answer's
 * status code and error, when it is tried next; Retry on a failed one. Refreshed every two seconds
 * while a delivery is pending, so a test's outcome shows without a click.
 */
export function DeliveryLog({ endpointId, refreshKey }: { endpointId: string; refreshKey: number }) {
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const paged = usePaged(`${endpointId}:${status}`, (cursor) =>
    api<Page<WebhookDelivery>>(
      'GET',
      `/v1/webhooks/${endpointId}/deliveries${query({ status, cursor, limit: 20 })}`,
    ),
  );
  const rows = paged.page?.data ?? [];
  const waiting = rows.some((d) => d.status === 'pending');
  const { reload } = paged;
  useEffect(() => reload(), [refreshKey, reload]);
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(reload, 2_000);
    return () => clearInterval(timer);
  }, [waiting, reload]);

  const retry = async (d: WebhookDelivery) => {
    setError(null);
    try {
      await api('POST', `/v1/webhooks/${endpointId}/deliveries/${d.id}/retry`);
      setNote(`Retrying the ${EVENT_LABEL[d.eventType] ?? d.eventType} delivery now.`);
      reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div class="deliveries">
      <div class="filters">
        <div class="field inline">
          <label for={`dl-status-${endpointId}`}>Show</label>
          <select
            id={`dl-status-${endpointId}`}
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="small-inline" onClick={reload}>
          Refresh
        </button>
      </div>
      {paged.error !== null && <ErrorBox error={paged.error} what="Deliveries" />}
      {error !== null && <ErrorBox error={error} what="Deliveries" />}
      <p role="status" class="status-line">
        {note}
      </p>
      {rows.length === 0 && !paged.loading ? (
        <p class="muted">No deliveries{status ? ' with this status' : ''} yet.</p>
      ) : (
        <div class="table-wrap" aria-busy={paged.loading}>
          <table class="stack">
            <caption class="visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col" class="num">
                  Answer
                </th>
                <th scope="col">Last error</th>
                <th scope="col">Next attempt</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td data-label="Created">{when(d.createdAt)}</td>
                  <td data-label="Event">
                    {EVENT_LABEL[d.eventType] ?? d.eventType}
                    <span class="sub" title="The webhook-id header of every attempt">
                      {d.eventId}
                    </span>
                  </td>
                  <td data-label="Status">
                    <Badge status={d.status} />
                  </td>
                  <td data-label="Attempts" class="num">
                    {d.attempts}
                  </td>
                  <td data-label="Answer" class="num">
                    {d.lastResponseStatus ?? '—'}
                  </td>
                  <td data-label="Last error" class="error">
                    {d.lastError ?? '—'}
                  </td>
                  <td data-label="Next attempt">{when(d.nextAttemptAt)}</td>
                  <td class="row-actions">
                    {d.status === 'failed' && (
                      <button type="button" onClick={() => void retry(d)}>
                        Retry
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Deliveries" paged={paged} />
    </div>
  );
}
