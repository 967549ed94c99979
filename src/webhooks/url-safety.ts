import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError, badRequest } from '../lib/errors.js';

/** What the configuration allows of a webhook URL (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

export type Lookup = (hostname: string) => Promise<{ address: string }[]>;

const defaultLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export const MAX_URL_LENGTH = 2048;
const DNS_TIMEOUT_MS = 5_000;

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  uniqueLocal: 'a private network address (IPv6 unique local)',
  linkLocal: 'a link-local address',
  unspecified: 'the unspecified address',
  carrierGradeNat: 'a carrier-grade NAT address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  ipv4Mapped: 'an IPv4-mapped IPv6 address',
};

/**
 * Why a webhook may not go to this address, or undefined for a public unicast address. The rule is
 * request-filtering-agent's (the agent that checks again at connection time): anything ipaddr.js does
 * not call `unicast` is refused, private, loopback and link-local ranges among them.
 */
export function addressProblem(address: string): string | undefined {
  let range: string;
  try {
    range = ipaddr.parse(address).range();
  } catch {
    return 'not an IP address';
  }
  if (range === 'unicast') return undefined;
  return RANGE_WORDS[range] ?? `a reserved address (${range})`;
}

const privateAddress = (address: string, problem: string, host: string): AppError =>
  badRequest(
    'private_address',
    `${host === address ? address : `${host} resolves to ${address}, which`} is ${problem}: webhooks go to ` +
      'public addresses only (a service run with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows others).',
    { field: 'url', address, host },
  );

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('dns timeout'), { code: 'ETIMEOUT' })), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Parses and normalises a URL, refusing what no configuration allows; no network access. */
export function parseEndpointUrl(raw: string, policy: Pick<UrlPolicy, 'allowHttp'>): URL {
  const invalid = (why: string) => badRequest('invalid_url', `url ${why}`, { field: 'url' });
  if (raw.length > MAX_URL_LENGTH) throw invalid(`is longer than ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalid('is not an absolute URL; give one such as https://hooks.example.com/loopit.');
  }
  if (url.protocol === 'http:' && !policy.allowHttp)
    throw badRequest(
      'insecure_url',
      'url must use https: plain http is accepted only by a service run with WEBHOOK_ALLOW_HTTP=true.',
      { field: 'url' },
    );
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(`must be an https URL, not ${url.protocol.replace(/:$/, '')}.`);
  if (url.username || url.password)
    throw invalid(
      'must not carry a user name or password: it would be shown to every admin and written to logs; ' +
        'receivers authenticate deliveries by their signature.',
    );
  if (!url.hostname) throw invalid('has no host.');
  url.hash = '';
  return url;
}

/**
 * The check at creation (and when the URL changes): https unless http is allowed; the host a literal
 * public address, or a name whose every address is public, unless private networks are allowed. The
 * sender checks again when it connects (request-filtering-agent), for names that change later.
 */
export async function checkEndpointUrl(
  raw: string,
  policy: UrlPolicy,
  lookup = defaultLookup,
): Promise<string> {
  const url = parseEndpointUrl(raw, policy);
  if (policy.allowPrivateNetworks) return url.href;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host) !== 0) {
    const problem = addressProblem(host);
    if (problem) throw privateAddress(host, problem, host);
    return url.href;
  }
  let addresses: { address: string }[];
  try {
    addresses = await withTimeout(lookup(host), DNS_TIMEOUT_MS);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA')
      throw badRequest('host_not_found', `url: the name ${host} does not resolve; check its spelling.`, {
        field: 'url',
        host,
      });
    throw new AppError(
      503,
      'dns_unavailable',
      `The name ${host} could not be resolved just now; retry in a few seconds.`,
      { host },
      { 'retry-after': '5' },
    );
  }
  for (const { address } of addresses) {
    const problem = addressProblem(address);
    if (problem) throw privateAddress(address, problem, host);
  }
  return url.href;
}
