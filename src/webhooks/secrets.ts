import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { invitationKeys } from '../provisioning/invitation-tokens.js';

/**
 * Signing secrets are Standard Webhooks secrets (`whsec_` + base64 of 32 random bytes), shown once at
 * creation. The worker needs the secret itself to sign, so it cannot be stored as a hash: it is stored
 * encrypted (AES-256-GCM, the endpoint's id as associated data) under a key derived from the service's
 * secret outside the database (INVITATION_SECRET, HKDF with a label of its own), so that a copy of the
 * database alone does not let anyone forge deliveries. INVITATION_SECRET_PREVIOUS opens secrets sealed
 * before a rotation; they are sealed again under the current key as they are used.
 */
const HKDF_INFO = 'loopit-provision webhook signing secrets v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export interface SealedSecret {
  ciphertext: Buffer;
  keyId: string;
}

interface DerivedKey {
  key: Buffer;
  id: string;
}

const derived = new Map<string, DerivedKey>();

function derive(serviceKey: Buffer): DerivedKey {
  const cacheKey = serviceKey.toString('base64');
  let found = derived.get(cacheKey);
  if (!found) {
    const key = Buffer.from(hkdfSync('sha256', serviceKey, Buffer.alloc(0), HKDF_INFO, 32));
    found = { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
    derived.set(cacheKey, found);
  }
  return found;
}

export function sealSecret(endpointId: string, secret: string): SealedSecret {
  const { key, id } = derive(invitationKeys().current);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(endpointId, 'utf8'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]), keyId: id };
}

/**
 * The secret, and whether it was sealed under the previous key (seal it again); undefined when no key
 * at hand sealed it (both keys rotated away) or the ciphertext is not this endpoint's.
 */
export function openSecret(
  endpointId: string,
  sealed: SealedSecret,
): { secret: string; stale: boolean } | undefined {
  const keys = invitationKeys();
  const candidates = [keys.current, keys.previous];
  for (let i = 0; i < candidates.length; i++) {
    const serviceKey = candidates[i];
    if (!serviceKey) continue;
    const { key, id } = derive(serviceKey);
    if (id !== sealed.keyId) continue;
    try {
      const iv = sealed.ciphertext.subarray(0, IV_BYTES);
      const tag = sealed.ciphertext.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(endpointId, 'utf8'));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([
        decipher.update(sealed.ciphertext.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return { secret: plain.toString('utf8'), stale: i > 0 };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
