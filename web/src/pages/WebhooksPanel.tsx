import { useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { EVENT_LABEL } from '../hints';
import { useLoad } from '../hooks';
import type { CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint } from '../types';
import { Badge, ErrorBox, when } from '../ui';
import { ConfirmDialog } from './ConfirmDialog';
import { DeliveryLog } from './DeliveryLog';
import { WebhookForm } from './WebhookForm';

/** The signing secret of an endpoint just added: shown this once, with a copy button. */
function SecretBox({ created, onDone }: { created: CreatedWebhookEndpoint; onDone: () => void }) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is blocked here: select the secret and copy it by hand.');
    }
  };
  return (
    <div class="notice secret" role="region" aria-labelledby="wh-secret-title">
      <h3 id="wh-secret-title">Signing secret for {created.url}</h3>
      <p>
        Copy it now and store it with your receiver: <strong>it is not shown again.</strong> Your receiver
        verifies each delivery’s <code>webhook-signature</code> with it (Standard Webhooks).
      </p>
      <code aria-label="Signing secret">{created.secret}</code>
      <div class="actions">
        <button type="button" class="primary" onClick={() => void copy()}>
          Copy secret
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      <p role="status" class="status-line">
        {copied}
      </p>
    </div>
  );
}

function state(endpoint: WebhookEndpoint): { status: string; label: string } {
  if (endpoint.enabled) return { status: 'active', label: 'Enabled' };
  if (endpoint.disabledReason === 'failing')
    return { status: 'failed', label: 'Disabled: failing for 5 days' };
  return { status: 'deactivated', label: 'Disabled' };
}

function EndpointRow(props: {
  endpoint: WebhookEndpoint;
  onChange: (message: string) => void;
  onError: (error: unknown) => void;
  onDelete: () => void;
}) {
  const { endpoint, onChange, onError } = props;
  const [open, setOpen] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const badge = state(endpoint);
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      onChange(done);
    } catch (e) {
      onError(e);
    }
  };
  const test = () =>
    act(async () => {
      await api<WebhookDelivery>('POST', `/v1/webhooks/${endpoint.id}/test`);
      setOpen(true);
      setRefresh((n) => n + 1);
    }, `Test delivery queued for ${endpoint.url}; its answer shows in the delivery log.`);
  const setEnabled = (enabled: boolean) =>
    act(
      () => api('PATCH', `/v1/webhooks/${endpoint.id}`, { enabled }),
      enabled ? `Enabled ${endpoint.url}: waiting events go out now.` : `Disabled ${endpoint.url}.`,
    );

  return (
    <li class="webhook">
      <div class="webhook-head">
        <span class="webhook-url">{endpoint.url}</span>
        <Badge status={badge.status} label={badge.label} />
      </div>
      {endpoint.description && <p class="small">{endpoint.description}</p>}
      <p class="muted small">Sends: {endpoint.events.map((e) => EVENT_LABEL[e] ?? e).join(', ')}</p>
      {endpoint.failingSince && (
        <p class="warning small">
          Failing since {when(endpoint.failingSince)}: failed deliveries are retried, and after 5 days of
          failures the endpoint is disabled.
        </p>
      )}
      {endpoint.disabledReason === 'failing' && (
        <p class="warning small">
          Disabled on {when(endpoint.disabledAt)} after failing for 5 days. Fix the receiver, send a test,
          then enable it: the events that waited go out.
        </p>
      )}
      <div class="row-actions">
        <button type="button" onClick={() => void test()}>
          Send test
        </button>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide deliveries' : 'Deliveries'}
        </button>
        <button type="button" onClick={() => void setEnabled(!endpoint.enabled)}>
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" class="danger" onClick={props.onDelete}>
          Delete
        </button>
      </div>
      {open && <DeliveryLog endpointId={endpoint.id} refreshKey={refresh} />}
    </li>
  );
}

/**
 * Settings › Webhooks: the workspace's endpoints (add with the event types to send, see the secret
 * once, send a test, read the delivery log and retry, disable or enable, delete). Needs `admin`.
 */
export function WebhooksPanel() {
  const list = useLoad('webhooks', () => api<Page<WebhookEndpoint>>('GET', '/v1/webhooks?limit=100'));
  const [created, setCreated] = useState<CreatedWebhookEndpoint | null>(null);
  const [deleting, setDeleting] = useState<WebhookEndpoint | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const changed = (message: string) => {
    setError(null);
    setStatus(message);
    list.reload();
  };
  const remove = async (endpoint: WebhookEndpoint) => {
    setDeleting(null);
    try {
      await api('DELETE', `/v1/webhooks/${endpoint.id}`);
      changed(`Deleted ${endpoint.url}.`);
    } catch (e) {
      setError(e);
    }
  };
  const endpoints = list.data?.data ?? [];

  return (
    <section class="panel" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p class="muted small">
        Each chosen event goes to your URL as a signed POST, from the moment the endpoint is added. A delivery
        that fails is retried for about a day; an endpoint that fails for 5 days is disabled until you enable
        it again.
      </p>
      {created && <SecretBox created={created} onDone={() => setCreated(null)} />}
      {list.error !== null && <ErrorBox error={list.error} what="Webhooks" />}
      {list.data && endpoints.length === 0 && <p>No endpoints yet.</p>}
      <ul class="webhooks" aria-label="Webhook endpoints">
        {endpoints.map((endpoint) => (
          <EndpointRow
            key={endpoint.id}
            endpoint={endpoint}
            onChange={changed}
            onError={setError}
            onDelete={() => setDeleting(endpoint)}
          />
        ))}
      </ul>
      {error !== null && <ErrorBox error={error} what="Webhooks" />}
      <p role="status" class="status-line">
        {status}
      </p>
      <WebhookForm
        onCreated={(endpoint) => {
          setCreated(endpoint);
          changed(`Added ${endpoint.url}.`);
        }}
      />
      {deleting && (
        <ConfirmDialog
          title={`Delete the endpoint ${deleting.url}?`}
          confirmLabel="Delete endpoint"
          danger
          onConfirm={() => void remove(deleting)}
          onClose={() => setDeleting(null)}
        >
          <p>Nothing more is sent to it, and its delivery log is deleted with it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
