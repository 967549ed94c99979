import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../db/tables.js';

export const SCOPES: readonly Scope[] = ['users', 'imports', 'scim', 'admin', 'events'];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (length: number): string => {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
};

/**
 * A token reads `lp_<prefix>_<secret>`. The prefix (public, unique) finds the row; only the SHA-256 of
 * the whole token is stored. The secret has 256 bits of entropy, so a fast hash is enough.
 */
export function generateToken(): { token: string; prefix: string; hash: Buffer } {
  const prefix = `lp_${randomText(10)}`;
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: hashToken(token) };
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function prefixOf(token: string): string | undefined {
  const match = /^(lp_[a-z0-9]{10})_[A-Za-z0-9_-]{43}$/.exec(token);
  return match?.[1];
}

/**
 * The token of an Authorization header: the scheme in any case, then spaces or tabs. Undefined for a
 * header of another shape.
 */
export function bearerToken(header: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

export const sameHash = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);
