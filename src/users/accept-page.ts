/** The small page behind the e-mail link. Its button POSTs; opening the page never accepts. */

const escape = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const layout = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(title)} · Loopit</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1b1f24; margin: 0; }
  main { max-width: 28rem; margin: 10vh auto; background: #fff; padding: 2rem; border-radius: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  button { font-size: 1rem; padding: .7rem 1.4rem; border: 0; border-radius: 6px; background: #1d4ed8;
           color: #fff; cursor: pointer; }
  button:focus { outline: 3px solid #93c5fd; outline-offset: 2px; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;

export type PageState = 'valid' | 'not_found' | 'expired' | 'used' | 'accepted';

const MESSAGES: Record<Exclude<PageState, 'valid'>, [string, string]> = {
  not_found: ['Invitation not found', 'This link is not valid. Ask your administrator for a new invitation.'],
  expired: [
    'Invitation expired',
    'This invitation has expired or was replaced by a newer one. Use the most recent e-mail, or ask your administrator for a new invitation.',
  ],
  used: ['Already accepted', 'This invitation was already accepted. You can sign in to Loopit.'],
  accepted: [
    'Welcome to Loopit',
    'Your invitation is accepted and your account is active. You can sign in to Loopit now.',
  ],
};

export function acceptPage(state: PageState, token: string): string {
  if (state === 'valid') {
    return layout(
      'Accept your invitation',
      `<h1>Accept your invitation</h1>
<p>You have been invited to a Loopit workspace. Press the button to accept and activate your account.</p>
<form method="post" action="/invitations/accept">
<input type="hidden" name="token" value="${escape(token)}">
<button type="submit">Accept invitation</button>
</form>`,
    );
  }
  const [title, text] = MESSAGES[state];
  return layout(title, `<h1>${escape(title)}</h1><p>${escape(text)}</p>`);
}
