import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface Received {
  to: string[];
  messageId: string;
  /** The accept link found in the body, or '' */
  link: string;
  raw: string;
  /** The server never acknowledged it (see stallOn). */
  stalled: boolean;
  /** `performance.now()` when its DATA had arrived whole. */
  at: number;
}

export interface SmtpOptions {
  /** A reply code to refuse a recipient with at RCPT TO (550 permanent, 451 transient). */
  rcptReply?: (address: string) => number | undefined;
  /** 1-based number of the message whose DATA the server never acknowledges. */
  stallOn?: number;
  /** Keep each message's text in `raw` (default); off for hundreds of thousands of messages. */
  keepRaw?: boolean;
  /** Milliseconds the server takes to acknowledge each message's DATA, as a distant server would. */
  dataDelayMs?: number;
}

export interface TestSmtp {
  port: number;
  url: string;
  received: Received[];
  /** Resolves once the stalled message has been received. */
  stalled: Promise<void>;
  /** The most messages the server was receiving at once (DATA begun, not yet acknowledged). */
  maxConcurrent(): number;
  close(): Promise<void>;
}

/** Undoes quoted-printable soft breaks and escapes, enough to read headers and links back. */
export const decodeQuotedPrintable = (raw: string): string =>
  raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

export function parseMessage(raw: string): { messageId: string; link: string } {
  const headers = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(headers)?.[1] ?? '';
  const link = /https?:\/\/[^\s"<]+\/invitations\/accept\?token=[A-Za-z0-9_%-]+/.exec(
    decodeQuotedPrintable(raw),
  );
  return { messageId, link: link?.[0] ?? '' };
}

const replyError = (code: number, text: string): Error =>
  Object.assign(new Error(text), { responseCode: code });

/** A real SMTP server on a free port that keeps what it receives, in arrival order. */
export async function startSmtp(options: SmtpOptions = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  let count = 0;
  let active = 0;
  let maxActive = 0;
  let onStalled: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (onStalled = resolve));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 500,
    onRcptTo(address, _session, callback) {
      const code = options.rcptReply?.(address.address);
      if (code) return callback(replyError(code, code >= 500 ? 'No such user here' : 'Try again later'));
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        count += 1;
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((r) => r.address);
        const stall = count === options.stallOn;
        received.push({
          to,
          ...parseMessage(raw),
          raw: options.keepRaw === false ? '' : raw,
          stalled: stall,
          at: performance.now(),
        });
        if (stall) {
          onStalled(); // and never answer: the message stays in flight
          return;
        }
        const acknowledge = () => {
          active -= 1;
          callback();
        };
        if (options.dataDelayMs) setTimeout(acknowledge, options.dataDelayMs);
        else acknowledge();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    stalled,
    maxConcurrent: () => maxActive,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on: an SMTP server that is down. */
export async function closedPort(): Promise<number> {
  const smtp = await startSmtp();
  await smtp.close();
  return smtp.port;
}
