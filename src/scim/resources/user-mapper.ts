import { ScimError } from '../../lib/errors.js';
import type { ProvisionItem, TypedEmail } from '../../provisioning/types.js';
import { ENTERPRISE_USER_SCHEMA, LOOPIT_USER_SCHEMA, USER_SCHEMA } from '../schema/model.js';
import { CORE_USER, ENTERPRISE_USER, LOOPIT_USER } from '../schema/urns.js';
import { checkResource } from '../schema/validate.js';
import { isObject, member as get } from '../schema/json.js';

/** A user as SCIM reads it from Postgres. */
export interface ScimUserRow {
  id: string;
  user_name: string;
  email: string | null;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  external_id: string | null;
  status: 'invited' | 'active' | 'deactivated';
  emails: unknown[];
  attributes: Record<string, unknown>;
  role_name: string;
  location_name: string | null;
  /** The groups (roles) the user is a member of. */
  groups: { value: string; display: string }[];
  created_at: Date;
  updated_at: Date;
  version: number;
}

export type ScimUserJson = Record<string, unknown>;

/**
 * Name parts without a column of their own, kept in `attributes` under this key. `formatted` is kept as
 * sent, apart from displayName, so that what an identity provider reads back is what it wrote.
 */
const NAME_PARTS = ['formatted', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;
const NAME_KEY = 'name';

/** Core attributes kept as given in the `attributes` column (the others have columns of their own). */
const STORED = [
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'profileUrl',
  'phoneNumbers',
  'addresses',
] as const;

export const userLocation = (publicUrl: string, id: string): string => `${publicUrl}/scim/v2/Users/${id}`;

export function toScimUser(row: ScimUserRow, publicUrl: string): ScimUserJson {
  const joined = [row.given_name, row.family_name].filter(Boolean).join(' ') || null;
  const storedName = isObject(row.attributes[NAME_KEY]) ? row.attributes[NAME_KEY] : {};
  const displayName = row.display_name ?? joined;
  const emails =
    Array.isArray(row.emails) && row.emails.length > 0
      ? row.emails
      : row.email
        ? [{ value: row.email, type: 'work', primary: true }]
        : [];
  const enterprise = row.attributes[ENTERPRISE_USER];
  const resource: ScimUserJson = {
    schemas: [CORE_USER, ...(enterprise ? [ENTERPRISE_USER] : []), LOOPIT_USER],
    id: row.id,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    userName: row.user_name,
    name: {
      ...(row.given_name ? { givenName: row.given_name } : {}),
      ...(row.family_name ? { familyName: row.family_name } : {}),
      ...storedName,
    },
    ...(displayName ? { displayName } : {}),
    ...(emails.length > 0 ? { emails } : {}),
    active: row.status !== 'deactivated',
    groups: (row.groups ?? []).map((g) => ({
      value: g.value,
      $ref: `${publicUrl}/scim/v2/Groups/${g.value}`,
      display: g.display,
      type: 'direct',
    })),
    roles: [{ value: row.role_name, primary: true }],
  };
  for (const key of STORED) if (row.attributes[key] !== undefined) resource[key] = row.attributes[key];
  if (enterprise) resource[ENTERPRISE_USER] = enterprise;
  resource[LOOPIT_USER] = {
    role: row.role_name,
    ...(row.location_name ? { location: row.location_name } : {}),
  };
  resource.meta = {
    resourceType: 'User',
    created: row.created_at.toISOString(),
    lastModified: row.updated_at.toISOString(),
    location: userLocation(publicUrl, row.id),
    version: `W/"${row.version}"`,
  };
  return resource;
}

const invalid = (detail: string) => new ScimError(400, 'invalidValue', detail);

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${what} must be a string.`);
  return value;
}

export function parseBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid(`${what} must be true or false.`);
}

const MAX_EMAILS = 50;

function cleanEmails(value: unknown): TypedEmail[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid('emails must be an array.');
  if (value.length > MAX_EMAILS) throw invalid(`emails holds at most ${MAX_EMAILS} addresses.`);
  return value.map((e, i) => {
    if (!isObject(e)) throw invalid(`emails[${i}] must be an object.`);
    const v = optionalString(get(e, 'value'), `emails[${i}].value`);
    if (!v) throw invalid(`emails[${i}].value is required.`);
    const display = optionalString(get(e, 'display'), `emails[${i}].display`);
    const type = optionalString(get(e, 'type'), `emails[${i}].type`);
    const primary = parseBoolean(get(e, 'primary'), `emails[${i}].primary`);
    return {
      value: v,
      ...(display ? { display } : {}),
      ...(type ? { type } : {}),
      ...(primary !== undefined ? { primary } : {}),
    };
  });
}

/**
 * The enterprise extension as stored: `manager.displayName` is read-only (RFC 7643 §4.3), so a value
 * sent for it is ignored rather than kept; the manager's other sub-attributes are kept as sent.
 */
function withoutReadOnly(enterprise: Record<string, unknown>): Record<string, unknown> {
  const out = { ...enterprise };
  for (const [key, value] of Object.entries(out)) {
    if (key.toLowerCase() !== 'manager' || !isObject(value)) continue;
    const kept = Object.fromEntries(Object.entries(value).filter(([k]) => k.toLowerCase() !== 'displayname'));
    if (Object.keys(kept).length > 0) out[key] = kept;
    else delete out[key];
  }
  return out;
}

/** The value of the role a `roles` list names: its primary element, else its first. */
export function primaryRole(roles: unknown): string | undefined {
  if (roles === undefined || roles === null) return undefined;
  if (!Array.isArray(roles)) throw invalid('roles must be an array.');
  const elements = roles.filter(isObject);
  const chosen = elements.find((r) => parseBoolean(get(r, 'primary'), 'roles.primary')) ?? elements[0];
  return chosen ? optionalString(get(chosen, 'value'), 'roles.value') : undefined;
}

/** `schemas` must name the resource's core schema (RFC 7643 §3): a Group body sent to /Users is refused. */
export function checkSchemas(body: Record<string, unknown>, urn: string, resource: string): void {
  const schemas = get(body, 'schemas');
  const named =
    Array.isArray(schemas) &&
    schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase());
  if (!named) throw invalid(`schemas must contain "${urn}" (the ${resource} schema).`);
}

/** The fields of a SCIM User body (POST, PUT, or a resource after PATCH) as an engine item. */
/**
 * `checked: false` is for a resource PATCH produced: its operations were checked against the model as
 * they were applied, and what was stored before (by an older version, kept as it was sent) must not make
 * a PATCH of something else fail.
 */
export function fromScimUser(body: unknown, key: string, checked = true): ProvisionItem {
  if (!isObject(body))
    throw new ScimError(400, 'invalidSyntax', 'The body must be a JSON object (a SCIM User).');
  checkSchemas(body, CORE_USER, 'User');
  if (checked) checkResource(body, USER_SCHEMA, [ENTERPRISE_USER_SCHEMA, LOOPIT_USER_SCHEMA]);
  const userName = optionalString(get(body, 'userName'), 'userName');
  if (!userName?.trim()) throw invalid('userName is required.');
  const emails = cleanEmails(get(body, 'emails'));
  const primaryEmail =
    emails?.find((e) => e.primary)?.value ??
    emails?.[0]?.value ??
    (userName.includes('@') ? userName : undefined);
  const name = get(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) throw invalid('name must be an object.');
  const nameObj = isObject(name) ? name : {};
  const givenName = optionalString(get(nameObj, 'givenName'), 'name.givenName');
  const familyName = optionalString(get(nameObj, 'familyName'), 'name.familyName');
  const formatted = optionalString(get(nameObj, 'formatted'), 'name.formatted');
  // A user without any name is shown by its name in the formatted form, else by its userName.
  const unnamed = !givenName?.trim() && !familyName?.trim();
  const displayName =
    optionalString(get(body, 'displayName'), 'displayName') ??
    (unnamed ? (formatted?.trim() ? formatted : userName) : undefined);
  const loopit = get(body, LOOPIT_USER);
  const ext = isObject(loopit) ? loopit : {};
  const role = optionalString(get(ext, 'role'), `${LOOPIT_USER}:role`) ?? primaryRole(get(body, 'roles'));
  const location = optionalString(get(ext, 'location'), `${LOOPIT_USER}:location`);
  const attributes: Record<string, unknown> = {};
  for (const k of STORED) {
    const v = get(body, k);
    if (v !== undefined && v !== null) attributes[k] = v;
  }
  const parts: Record<string, string> = {};
  for (const k of NAME_PARTS) {
    const v = optionalString(get(nameObj, k), `name.${k}`);
    if (v) parts[k] = v;
  }
  if (Object.keys(parts).length > 0) attributes[NAME_KEY] = parts;
  const enterprise = get(body, ENTERPRISE_USER);
  if (isObject(enterprise)) attributes[ENTERPRISE_USER] = withoutReadOnly(enterprise);
  const active = parseBoolean(get(body, 'active'), 'active');
  return {
    key,
    userName,
    ...(primaryEmail !== undefined ? { email: primaryEmail } : {}),
    givenName: givenName ?? null,
    familyName: familyName ?? null,
    displayName: displayName ?? null,
    externalId: optionalString(get(body, 'externalId'), 'externalId') ?? null,
    // Stored as the resource shows it, so that a PUT of what was read back changes nothing.
    emails: emails ?? (primaryEmail ? [{ value: primaryEmail, type: 'work', primary: true }] : []),
    attributes,
    ...(role !== undefined ? { role } : {}),
    ...(location !== undefined ? { location } : {}),
    ...(active !== undefined ? { active } : {}),
    managedBy: 'scim',
  };
}
