import type { DbOrTx } from '../db/index.js';
import { matchKey } from '../lib/text.js';
import { isActiveMember } from '../users/users.repository.js';
import type { ImportRow } from './imports.repository.js';

/**
 * Where the summary goes: notifyEmail while it is still an active user of the workspace (checked at the
 * upload too; the user may have left since, or a dry run been applied later), else nowhere.
 */
export async function summaryRecipient(db: DbOrTx, imp: ImportRow): Promise<string | undefined> {
  if (!imp.notify_email) return undefined;
  return (await isActiveMember(db, imp.workspace_id, matchKey(imp.notify_email)))
    ? imp.notify_email
    : undefined;
}

/** The notifyEmail summary of a finished import (best effort, not through the invitation outbox). */
export function summaryEmail(
  imp: ImportRow,
  publicUrl: string,
): { subject: string; text: string; html: string; messageId: string } {
  const lines = [
    `Import ${imp.id}${imp.file_name ? ` (${imp.file_name})` : ''} finished: ${imp.status}.`,
    `${imp.total_rows} rows: ${imp.created} created, ${imp.updated} updated, ${imp.unchanged} unchanged, ` +
      `${imp.skipped} skipped, ${imp.failed} failed, ${imp.deactivated} deactivated; ${imp.invited} invitations.`,
    imp.dry_run ? 'This was a dry run: nothing was written.' : '',
    `Report: ${publicUrl}/v1/imports/${imp.id}/report.csv`,
  ].filter(Boolean);
  const escape = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return {
    subject: `Loopit import ${imp.status.replaceAll('_', ' ')}: ${imp.created} created, ${imp.failed} failed`,
    text: lines.join('\n'),
    html: lines.map((l) => `<p>${escape(l)}</p>`).join(''),
    messageId: `<import-${imp.id}-${imp.attempt}@${new URL(publicUrl).hostname || 'loopit-provision'}>`,
  };
}
