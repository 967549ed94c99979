import { describe, expect, it } from 'vitest';
import { useInvitationSecrets } from '../src/provisioning/invitation-tokens.js';
import {
  ATTEMPT_TIMEOUT_MS,
  DEFAULT_POLICY,
  DISABLE_AFTER_MS,
  RETRY_SCHEDULE_MS,
  maxAttempts,
  pauseMs,
  retryDelayMs,
} from '../src/webhooks/schedule.js';
import { newSigningSecret, openSecret, sealSecret } from '../src/webhooks/secrets.js';
import { addressProblem } from '../src/webhooks/url-safety.js';

const s = 1_000;
const min = 60 * s;
const h = 60 * min;

describe('the retry schedule', () => {
  it('retries after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h and 12 h, then gives up', () => {
    expect(RETRY_SCHEDULE_MS).toEqual([5 * s, 30 * s, 2 * min, 10 * min, 30 * min, h, 3 * h, 6 * h, 12 * h]);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelayMs(n))).toEqual(RETRY_SCHEDULE_MS);
    expect(retryDelayMs(10)).toBeNull();
    expect(maxAttempts()).toBe(10);
    // Ten attempts over about 23 hours.
    expect(RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0) / h).toBeCloseTo(22.71, 1);
    expect(() => retryDelayMs(0)).toThrow(RangeError);
  });

  it('is what the service runs with: a 10 s timeout, disabled after 5 days', () => {
    expect(DEFAULT_POLICY).toMatchObject({ retryScheduleMs: RETRY_SCHEDULE_MS, timeoutMs: 10 * s });
    expect(ATTEMPT_TIMEOUT_MS).toBe(10 * s);
    expect(DISABLE_AFTER_MS).toBe(5 * 24 * h);
  });

  it('pauses a failing endpoint along the same steps, staying at 12 h', () => {
    expect([0, 1, 2, 3, 9, 10, 50].map((n) => pauseMs(n))).toEqual([
      0,
      5 * s,
      30 * s,
      2 * min,
      12 * h,
      12 * h,
      12 * h,
    ]);
    expect(pauseMs(2, [100, 200])).toBe(200);
    expect(pauseMs(7, [100, 200])).toBe(200);
  });

  it('follows a schedule given to it (tests run a fast one)', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, [200, 400, 600]))).toEqual([200, 400, 600, null]);
    expect(maxAttempts([200, 400, 600])).toBe(4);
  });
});

describe('target addresses', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.10', 'a loopback address'],
    ['10.0.0.1', 'a private network address'],
    ['172.16.5.4', 'a private network address'],
    ['192.168.1.1', 'a private network address'],
    ['169.254.169.254', 'a link-local address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['0.0.0.0', 'the unspecified address'],
    ['::1', 'a loopback address'],
    ['fe80::1', 'a link-local address'],
    ['fc00::1', 'a private network address (IPv6 unique local)'],
    ['::ffff:10.0.0.1', 'an IPv4-mapped IPv6 address'],
    ['224.0.0.1', 'a multicast address'],
  ])('refuses %s as %s', (address, words) => {
    expect(addressProblem(address)).toBe(words);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111'])(
    'accepts the public address %s',
    (address) => {
      expect(addressProblem(address)).toBeUndefined();
    },
  );
});

describe('signing secrets at rest', () => {
  it('are sealed under a key from INVITATION_SECRET, bound to their endpoint, and survive a rotation', () => {
    const old = 'the-old-service-secret-0123456789abcdef';
    const next = 'the-new-service-secret-0123456789abcdef';
    useInvitationSecrets({ invitationSecret: old });
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_/);
    const sealed = sealSecret('endpoint-1', secret);
    expect(sealed.ciphertext.toString('latin1')).not.toContain(secret.slice(6));
    expect(openSecret('endpoint-1', sealed)).toEqual({ secret, stale: false });
    // Another endpoint's row cannot borrow it.
    expect(openSecret('endpoint-2', sealed)).toBeUndefined();
    // Rotated: the previous key still opens it, and says to seal it again.
    useInvitationSecrets({ invitationSecret: next, invitationSecretPrevious: old });
    expect(openSecret('endpoint-1', sealed)).toEqual({ secret, stale: true });
    const resealed = sealSecret('endpoint-1', secret);
    expect(resealed.keyId).not.toBe(sealed.keyId);
    // Both keys gone: it cannot be opened, and nothing pretends it can.
    useInvitationSecrets({ invitationSecret: next });
    expect(openSecret('endpoint-1', sealed)).toBeUndefined();
    expect(openSecret('endpoint-1', resealed)).toEqual({ secret, stale: false });
  });
});
