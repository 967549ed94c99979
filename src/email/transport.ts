import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

export interface MailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The whole Message-ID header, angle brackets included; re-sends of one invitation reuse it. */
  messageId: string;
  headers?: Record<string, string>;
  /** The accept link, for the log transport; SMTP sends only what is in the body. */
  link?: string;
}

export interface Mailer {
  /** Resolves once the server accepted the message; rejects otherwise (see isPermanent). */
  send(msg: MailMessage): Promise<void>;
  close(): void;
}

const TIMEOUT_MS = 20_000;
/** A server that trickles its replies defeats the socket timeout; this bounds one message in all. */
const SEND_DEADLINE_MS = 60_000;

interface SmtpError {
  code?: string;
  command?: string;
  responseCode?: number;
  message?: string;
}

const asSmtpError = (err: unknown): SmtpError => (typeof err === 'object' && err !== null ? err : {});

/**
 * True when the server refused this very message (its recipient or its content) with a reply that
 * says retrying cannot help: 5xx except 503, which RFC 5321 makes a sequence error, not a refusal.
 * A 5xx to AUTH or MAIL FROM is the service's configuration, not the message: not permanent.
 */
export function isPermanent(err: unknown): boolean {
  const e = asSmtpError(err);
  if (e.code === 'EENVELOPE' && e.command === 'API' && /recipient/i.test(e.message ?? '')) return true;
  return isAboutMessage(e) && e.responseCode! >= 500 && e.responseCode! < 600 && e.responseCode !== 503;
}

/**
 * True when the server answered this very message with a transient refusal (4xx, 503): the message
 * counts an attempt. Anything else that is not permanent (refused connection, DNS, TLS, timeouts,
 * authentication, a closed connection) is the mail service's trouble and counts against no message.
 */
export function isTransientForMessage(err: unknown): boolean {
  return isAboutMessage(asSmtpError(err)) && !isPermanent(err);
}

const isAboutMessage = (e: SmtpError): boolean =>
  (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') &&
  (e.command === 'RCPT TO' || e.command === 'DATA') &&
  typeof e.responseCode === 'number';

/** One line for last_error: the server's reply when there is one, never a stack. */
export function describeError(err: unknown): string {
  const e = asSmtpError(err);
  const text = [e.code, e.message ?? String(err)].filter(Boolean).join(': ');
  return text.slice(0, 1000);
}

/** Pooled SMTP when SMTP_URL is set (connections are reused across messages), else the log. */
export function createMailer(config: Config, logger: Logger): Mailer {
  if (!config.smtpUrl) return logMailer(logger);
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: config.smtpMaxConnections,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  transport.on('error', (err) => logger.warn({ err }, 'smtp transport error'));
  return {
    async send(msg) {
      await transport.sendMail({
        to: msg.to,
        from: msg.from,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        messageId: msg.messageId,
        headers: msg.headers,
        signal: AbortSignal.timeout(SEND_DEADLINE_MS),
      });
    },
    close() {
      transport.close();
    },
  };
}

/**
 * Development: nothing leaves the machine. Each message is logged at info without its link: the link
 * carries a live token, and logs travel further than mailboxes. The link is logged at debug
 * (LOG_LEVEL=debug), so that an invitation can still be accepted on a development machine.
 */
function logMailer(logger: Logger): Mailer {
  return {
    async send(msg) {
      logger.info({ to: msg.to, subject: msg.subject, messageId: msg.messageId }, 'e-mail (log transport)');
      const link = msg.link ?? /https?:\/\/\S+/.exec(msg.text)?.[0];
      if (link) logger.debug({ to: msg.to, messageId: msg.messageId, link }, 'e-mail link (log transport)');
    },
    close() {},
  };
}
