import type { ImportRow } from './imports.repository.js';

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
