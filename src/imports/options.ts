import { createHash } from 'node:crypto';
import type { ImportMode } from '../db/tables.js';
import { badRequest } from '../lib/errors.js';
import { clean } from '../lib/text.js';
import { emailProblem } from '../provisioning/validate.js';

export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
  sendInvites: boolean;
  defaultRole: string | null;
  notifyEmail: string | null;
  confirmDeactivations: number | null;
}

const MODES: ImportMode[] = ['create', 'upsert', 'sync'];
export const OPTION_NAMES = [
  'mode',
  'dryRun',
  'sendInvites',
  'defaultRole',
  'notifyEmail',
  'confirmDeactivations',
] as const;

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw badRequest('invalid_option', `${name} must be true or false; got '${value}'.`, { field: name });
}

/** Parses options from the query string and form fields (fields win); unknown names are refused. */
export function parseOptions(raw: Record<string, string | undefined>): ImportOptions {
  const mode = (raw.mode?.trim().toLowerCase() || 'create') as ImportMode;
  if (!MODES.includes(mode)) {
    throw badRequest('invalid_option', `mode must be create, upsert or sync; got '${raw.mode}'.`, {
      field: 'mode',
    });
  }
  const notifyEmail = raw.notifyEmail?.trim() ? clean(raw.notifyEmail) : null;
  if (notifyEmail && emailProblem(notifyEmail)) {
    throw badRequest('invalid_option', `notifyEmail '${notifyEmail}' is not a valid e-mail address.`, {
      field: 'notifyEmail',
    });
  }
  let confirmDeactivations: number | null = null;
  if (raw.confirmDeactivations !== undefined && raw.confirmDeactivations.trim() !== '') {
    if (!/^\d{1,9}$/.test(raw.confirmDeactivations.trim())) {
      throw badRequest('invalid_option', 'confirmDeactivations must be a whole number of users.', {
        field: 'confirmDeactivations',
      });
    }
    confirmDeactivations = Number(raw.confirmDeactivations.trim());
  }
  return {
    mode,
    dryRun: bool('dryRun', raw.dryRun, false),
    sendInvites: bool('sendInvites', raw.sendInvites, true),
    defaultRole: raw.defaultRole?.trim() ? clean(raw.defaultRole) : null,
    notifyEmail,
    confirmDeactivations,
  };
}

/** The Idempotency-Key fingerprint: the bytes' hash and the normalised options. */
export function fingerprint(sha256: string, options: ImportOptions): string {
  return createHash('sha256').update(sha256).update(JSON.stringify(options)).digest('hex');
}
