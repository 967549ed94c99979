import { cleanName, clean, emailProblem, matchKey, nameProblem, type Problem } from './validate.js';
import type { ProvisionItem } from './types.js';

/** An item after validation and normalisation; role and location still by key. */
export interface Resolved {
  item: ProvisionItem;
  email?: string;
  emailKey?: string;
  userName?: string;
  userNameKey?: string;
  givenName?: string | null;
  familyName?: string | null;
  displayName?: string | null;
  roleKey?: string | null;
  locationKey?: string | null;
  externalId?: string | null;
}

const optionalName = (value: string | null | undefined): string | null | undefined => {
  if (value === undefined || value === null) return value;
  const cleaned = cleanName(value);
  return cleaned === '' ? null : cleaned;
};

const optionalKey = (value: string | null | undefined): string | null | undefined => {
  if (value === undefined || value === null) return value;
  const key = matchKey(value);
  return key === '' ? null : key;
};

/** Validates an item's own fields (no database needed). */
export function resolveItem(item: ProvisionItem): Resolved | Problem {
  const r: Resolved = { item };
  if (item.email !== undefined) {
    const problem = emailProblem(item.email);
    if (problem) return problem;
    r.email = clean(item.email);
    r.emailKey = matchKey(item.email);
  }
  if (item.userName !== undefined) {
    const userName = clean(item.userName);
    if (userName === '')
      return { code: 'missing_user_name', field: 'userName', message: 'userName must not be blank.' };
    if (userName.length > 254)
      return {
        code: 'invalid_user_name',
        field: 'userName',
        message: 'userName is longer than 254 characters.',
      };
    r.userName = userName;
    r.userNameKey = matchKey(userName);
  }
  for (const field of ['givenName', 'familyName', 'displayName'] as const) {
    const value = optionalName(item[field]);
    if (typeof value === 'string') {
      const problem = nameProblem(value, field);
      if (problem) return problem;
    }
    r[field] = value;
  }
  r.roleKey = optionalKey(item.role);
  r.locationKey = optionalKey(item.location);
  if (item.externalId !== undefined) {
    r.externalId = item.externalId === null || clean(item.externalId) === '' ? null : clean(item.externalId);
    if (r.externalId && r.externalId.length > 255) {
      return {
        code: 'invalid_external_id',
        field: 'externalId',
        message: 'externalId is longer than 255 characters.',
      };
    }
  }
  return r;
}

export const isProblem = (value: Resolved | Problem): value is Problem => 'code' in value;
