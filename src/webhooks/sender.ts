import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** At most this much of an answer is read; the rest is not waited for. */
export const RESPONSE_BODY_LIMIT = 4096;
/** What of an error answer's body is kept in lastError. */
const BODY_EXCERPT = 300;

export interface SendResult {
  /** The answer's status; undefined when none came (refused, timed out, reset). */
  status?: number;
  /** Why the attempt failed, for lastError; undefined on a 2xx. */
  error?: string;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

const agents = new Map<string, http.Agent>();

/**
 * One keep-alive agent per protocol and policy. request-filtering-agent checks every address a
 * connection goes to, after DNS: a name that resolves to a private, loopback or link-local address
 * later than when the endpoint was saved is refused at connection time too.
 */
function agentFor(protocol: string, allowPrivateNetworks: boolean): http.Agent {
  const key = `${protocol}${allowPrivateNetworks}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 16, allowPrivateIPAddress: allowPrivateNetworks };
    agent =
      protocol === 'https:'
        ? new RequestFilteringHttpsAgent(options)
        : new RequestFilteringHttpAgent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** For shutdown and tests: closes idle keep-alive connections. */
export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

const printable = (text: string): string =>
  // eslint-disable-next-line no-control-regex -- control characters of a foreign answer are blanked
  text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

function describeNetworkError(error: NodeJS.ErrnoException, host: string): string {
  const message = error.message ?? String(error);
  const refused = /^DNS lookup ([^\s(]+)\(/.exec(message);
  if (refused && message.includes('is not allowed')) {
    const address = refused[1]!;
    const what =
      address === host.replace(/^\[(.*)\]$/, '$1') ? address : `${host} resolves to ${address}, which`;
    return `refused to connect: ${what} is not a public address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)`;
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ENOTFOUND':
      return `the name ${host} does not resolve`;
    case 'ECONNRESET':
      return 'the connection was reset before an answer came';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached`;
    default:
      return error.code ? `${message} (${error.code})` : message;
  }
}

/**
 * POSTs one delivery. No redirect is followed (a 3xx fails the attempt, its status recorded); the whole
 * exchange is bounded by `timeoutMs`; at most RESPONSE_BODY_LIMIT bytes of the answer are read.
 * Never throws: every outcome is a SendResult. Error texts hold no header, so never the signature.
 */
export function postDelivery(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(target, {
      method: 'POST',
      agent: agentFor(target.protocol, options.allowPrivateNetworks),
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${options.timeoutMs / 1000} s (timeout)` });
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ error: describeNetworkError(error, target.hostname) }),
    );
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        if (status >= 200 && status < 300) return finish({ status });
        if (status >= 300 && status < 400) {
          const location = typeof res.headers.location === 'string' ? res.headers.location : '';
          return finish({
            status,
            error: `the endpoint answered ${status}, a redirect${location ? ` to ${printable(location).slice(0, 200)}` : ''}; redirects are not followed: give the final URL`,
          });
        }
        const excerpt = printable(Buffer.concat(chunks).toString('utf8')).slice(0, BODY_EXCERPT);
        finish({
          status,
          error:
            `the endpoint answered ${status} ${http.STATUS_CODES[status] ?? ''}`.trim() +
            (excerpt ? `: ${excerpt}` : ''),
        });
      };
      res.on('data', (chunk: Buffer) => {
        if (size >= RESPONSE_BODY_LIMIT) return;
        chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - size));
        size += chunk.length;
        // Enough read: the rest of a large answer is not waited for.
        if (size >= RESPONSE_BODY_LIMIT) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.end(body);
  });
}
