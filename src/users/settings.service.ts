import type { Db } from '../db/index.js';
import type { Settings, SettingsPatch } from '../api/settings.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { matchKey } from '../lib/text.js';
import { insertAuditEvents } from '../provisioning/users.repository.js';
import { findRole, findRoleByKey } from './roles.repository.js';
import { findSettings } from '../provisioning/settings.repository.js';
import { updateSettingsRow } from './workspaces.repository.js';

async function read(db: Db, workspaceId: string): Promise<Settings> {
  const s = await findSettings(db, workspaceId);
  if (!s) throw new AppError(404, 'workspace_not_found', 'This workspace no longer exists.');
  const role = await findRole(db, workspaceId, s.default_role_id);
  if (!role) throw new Error(`default role of workspace ${workspaceId} is missing`);
  return {
    defaultRole: { id: role.id, name: role.name },
    invitationTtlHours: s.invitation_ttl_hours,
    scimSendInvites: s.scim_send_invites,
    scimCreatesLocations: s.scim_creates_locations,
    syncThresholdPercent: s.sync_threshold_percent,
    syncThresholdMin: s.sync_threshold_min,
    updatedAt: s.updated_at.toISOString(),
  };
}

export const getSettings = read;

export async function updateSettings(
  db: Db,
  workspaceId: string,
  actor: string,
  patch: SettingsPatch,
): Promise<Settings> {
  const before = await read(db, workspaceId);
  const set: Parameters<typeof updateSettingsRow>[2] = {};
  if (patch.defaultRole !== undefined) {
    const role = await findRoleByKey(db, workspaceId, matchKey(patch.defaultRole));
    if (!role) {
      throw new AppError(
        422,
        'unknown_role',
        `Role '${patch.defaultRole}' does not exist in this workspace.`,
        { field: 'defaultRole' },
      );
    }
    set.default_role_id = role.id;
  }
  if (patch.invitationTtlHours !== undefined) set.invitation_ttl_hours = patch.invitationTtlHours;
  if (patch.scimSendInvites !== undefined) set.scim_send_invites = patch.scimSendInvites;
  if (patch.scimCreatesLocations !== undefined) set.scim_creates_locations = patch.scimCreatesLocations;
  if (patch.syncThresholdPercent !== undefined) set.sync_threshold_percent = patch.syncThresholdPercent;
  if (patch.syncThresholdMin !== undefined) set.sync_threshold_min = patch.syncThresholdMin;
  await db.transaction().execute(async (tx) => {
    await updateSettingsRow(tx, workspaceId, set);
    const after = await read(tx, workspaceId);
    // Each changed setting as { from, to }, as every audit event has it; a PATCH that changes nothing
    // is no event.
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of Object.keys(patch) as (keyof Settings)[]) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
        changes[key] = { from: before[key], to: after[key] };
    }
    if (Object.keys(changes).length === 0) return;
    await insertAuditEvents(tx, workspaceId, actor, 'api', [
      {
        id: newId(),
        action: 'settings.updated',
        user_id: null,
        target_type: 'settings',
        target_id: null,
        changes,
        details: null,
      },
    ]);
  });
  return read(db, workspaceId);
}
