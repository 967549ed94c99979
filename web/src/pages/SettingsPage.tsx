import { useEffect, useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { useLoad } from '../hooks';
import type { Role, Settings } from '../types';
import { ErrorBox, when } from '../ui';
import { NamesPanel } from './NamesPanel';
import { WebhooksPanel } from './WebhooksPanel';

interface Form {
  defaultRole: string;
  invitationDays: string;
  scimSendInvites: boolean;
  scimCreatesLocations: boolean;
  syncThresholdPercent: string;
  syncThresholdMin: string;
}

const toForm = (s: Settings): Form => ({
  defaultRole: s.defaultRole.name,
  invitationDays: String(Math.round((s.invitationTtlHours / 24) * 100) / 100),
  scimSendInvites: s.scimSendInvites,
  scimCreatesLocations: s.scimCreatesLocations,
  syncThresholdPercent: String(s.syncThresholdPercent),
  syncThresholdMin: String(s.syncThresholdMin),
});

export function SettingsPage() {
  const settings = useLoad('settings', () => api<Settings>('GET', '/v1/settings'));
  const roles = useLoad('roles', () => api<Page<Role>>('GET', '/v1/roles?limit=1000').catch(() => null));
  const [form, setForm] = useState<Form | null>(null);
  const [saved, setSaved] = useState('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (settings.data) setForm(toForm(settings.data));
  }, [settings.data]);

  if (settings.error) return <ErrorBox error={settings.error} what="Settings" />;
  if (!form || !settings.data) return <p aria-busy="true">Loading…</p>;

  const set = (key: keyof Form) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [key]: t.type === 'checkbox' ? t.checked : t.value });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved('');
    try {
      const next = await api<Settings>('PATCH', '/v1/settings', {
        defaultRole: form.defaultRole,
        invitationTtlHours: Math.round(Number(form.invitationDays) * 24),
        scimSendInvites: form.scimSendInvites,
        scimCreatesLocations: form.scimCreatesLocations,
        syncThresholdPercent: Number(form.syncThresholdPercent),
        syncThresholdMin: Number(form.syncThresholdMin),
      });
      setForm(toForm(next));
      setSaved(`Settings saved at ${when(next.updatedAt)}.`);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      <h1>Settings</h1>
      <form class="panel narrow" onSubmit={(e) => void submit(e)} aria-label="Workspace settings">
        <label for="s-role">Default role</label>
        {roles.data ? (
          <select
            id="s-role"
            value={form.defaultRole}
            onChange={set('defaultRole')}
            aria-describedby="s-role-help"
          >
            {roles.data.data.map((r) => (
              <option key={r.id}>{r.name}</option>
            ))}
          </select>
        ) : (
          <input
            id="s-role"
            value={form.defaultRole}
            onInput={set('defaultRole')}
            aria-describedby="s-role-help"
          />
        )}
        <p id="s-role-help" class="muted small">
          Given to people imported or provisioned without a role.
        </p>

        <label for="s-days">Invitations expire after (days)</label>
        <input
          id="s-days"
          type="number"
          min="0.05"
          max="365"
          step="any"
          value={form.invitationDays}
          onInput={set('invitationDays')}
        />

        <div class="field check">
          <input
            id="s-scim"
            type="checkbox"
            checked={form.scimSendInvites}
            onChange={set('scimSendInvites')}
          />
          <label for="s-scim">Invite people created by the identity provider (SCIM)</label>
        </div>
        <p id="s-scim-help" class="muted small">
          Usually off: people who sign in with single sign-on need no invitation.
        </p>

        <div class="field check">
          <input
            id="s-scim-locations"
            type="checkbox"
            checked={form.scimCreatesLocations}
            onChange={set('scimCreatesLocations')}
          />
          <label for="s-scim-locations">
            Add locations the identity provider sends that are missing here
          </label>
        </div>
        <p id="s-scim-locations-help" class="muted small">
          On: a new office in the identity provider appears here as a location. Off: people with a location
          this workspace lacks are refused until you add it.
        </p>

        <fieldset aria-describedby="s-sync-help">
          <legend>Sync safety</legend>
          <p id="s-sync-help" class="muted small">
            A sync file that would deactivate more people than this stops and asks for confirmation.
          </p>
          <label for="s-pct">Percent of active and invited people</label>
          <input
            id="s-pct"
            type="number"
            min="0"
            max="100"
            value={form.syncThresholdPercent}
            onInput={set('syncThresholdPercent')}
          />
          <label for="s-min">But always allow at least</label>
          <input
            id="s-min"
            type="number"
            min="0"
            value={form.syncThresholdMin}
            onInput={set('syncThresholdMin')}
          />
        </fieldset>
        {error !== null && <ErrorBox error={error} what="Settings" />}
        <p role="status" class="status-line">
          {saved}
        </p>
        <button type="submit" class="primary">
          Save settings
        </button>
      </form>
      <NamesPanel kind="roles" onChange={roles.reload} />
      <NamesPanel kind="locations" />
      <WebhooksPanel />
    </>
  );
}
