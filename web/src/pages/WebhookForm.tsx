import { useState } from 'preact/hooks';
import { api, problemOf } from '../api';
import { EVENT_LABEL } from '../hints';
import { EVENT_TYPES, type CreatedWebhookEndpoint, type EventType } from '../types';

/** Which field a refused endpoint marks, from the API's error code. */
const FIELD_OF: Record<string, string> = {
  invalid_url: 'url',
  insecure_url: 'url',
  private_address: 'url',
  host_not_found: 'url',
  unknown_event_type: 'events',
  no_event_types: 'events',
  too_many_webhooks: 'url',
};

/** Adding an endpoint: its URL, what it is for, and the event types it receives (checkboxes). */
export function WebhookForm({ onCreated }: { onCreated: (created: CreatedWebhookEndpoint) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<Set<EventType>>(new Set(['user.created', 'user.updated']));
  const [problem, setProblem] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const toggle = (type: EventType) => {
    const next = new Set(events);
    if (next.has(type)) next.delete(type);
    else next.add(type);
    setEvents(next);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    if (events.size === 0) {
      setProblem({ field: 'events', message: 'Choose at least one event to send.' });
      return;
    }
    setBusy(true);
    try {
      const created = await api<CreatedWebhookEndpoint>('POST', '/v1/webhooks', {
        url: url.trim(),
        events: EVENT_TYPES.filter((t) => events.has(t)),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      setUrl('');
      setDescription('');
      onCreated(created);
    } catch (error) {
      setProblem(problemOf(error, FIELD_OF));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Add a webhook endpoint">
      <h3>Add an endpoint</h3>
      <label for="wh-url">URL</label>
      <input
        id="wh-url"
        type="url"
        required
        placeholder="https://hooks.example.com/loopit"
        value={url}
        aria-invalid={problem?.field === 'url'}
        aria-describedby="wh-url-help"
        onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
      />
      <p id="wh-url-help" class="muted small">
        An https address on the internet. Events are POSTed to it as signed JSON.
      </p>
      <label for="wh-description">Description (optional)</label>
      <input
        id="wh-description"
        maxLength={500}
        value={description}
        onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
      />
      <fieldset aria-invalid={problem?.field === 'events'}>
        <legend>Events to send</legend>
        <div class="event-choices">
          {EVENT_TYPES.map((type) => (
            <div class="check" key={type}>
              <input
                id={`wh-ev-${type}`}
                type="checkbox"
                checked={events.has(type)}
                onChange={() => toggle(type)}
              />
              <label for={`wh-ev-${type}`}>
                {EVENT_LABEL[type]} <code>{type}</code>
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      {problem && (
        <div class="alert" role="alert">
          <p>{problem.message}</p>
        </div>
      )}
      <button type="submit" class="primary" disabled={busy}>
        Add endpoint
      </button>
    </form>
  );
}
