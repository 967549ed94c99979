export interface InvitationEmailInput {
  workspaceName: string;
  /** Display name, else given and family name; null when the user has none. */
  recipientName: string | null;
  email: string;
  link: string;
  expiresAt: Date;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** Names may hold a folded newline; a header or a greeting line must not. */
const oneLine = (value: string): string => value.replace(/\s+/g, ' ').trim();

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const pad = (n: number): string => String(n).padStart(2, '0');

/** 'Friday 4 December 2026 at 10:00 UTC', spelled out by hand: Intl output changes with the ICU version. */
const formatExpiry = (at: Date): string =>
  `${DAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()} ` +
  `at ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;

/**
 * The invitation e-mail. The link opens a page whose button accepts: mail scanners prefetch links, so
 * opening it alone must not accept, and the text says so.
 */
export function invitationEmail(input: InvitationEmailInput): RenderedEmail {
  const workspace = oneLine(input.workspaceName);
  const name = oneLine(input.recipientName ?? '') || input.email;
  const expires = formatExpiry(input.expiresAt);
  const subject = `You are invited to join ${workspace} on Loopit`;
  const text = [
    `Hello ${name},`,
    '',
    `You have been invited to join ${workspace} on Loopit as ${input.email}.`,
    '',
    'To accept, open this link and press the "Accept invitation" button on the page:',
    input.link,
    '',
    `The link expires on ${expires}. After that, ask your workspace administrator for a new invitation.`,
    '',
    'If you did not expect this invitation, you can ignore this e-mail.',
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family: Arial, sans-serif; color: #1f2933; line-height: 1.5;">
<p>Hello ${e(name)},</p>
<p>You have been invited to join <strong>${e(workspace)}</strong> on Loopit as ${e(input.email)}.</p>
<p>To accept, open the invitation page and press the <strong>Accept invitation</strong> button there.</p>
<p><a href="${e(input.link)}" style="display: inline-block; padding: 10px 18px; background: #2563eb; color: #ffffff; text-decoration: none; border-radius: 4px;">Open the invitation</a></p>
<p style="font-size: 13px;">Or copy this link into your browser: ${e(input.link)}</p>
<p style="font-size: 13px;">The link expires on ${e(expires)}. After that, ask your workspace administrator for a new invitation.</p>
<p style="font-size: 13px; color: #52606d;">If you did not expect this invitation, you can ignore this e-mail.</p>
</body>
</html>
`;
  return { subject, text, html };
}
