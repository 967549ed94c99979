import { sql, type RawBuilder } from 'kysely';
import { ScimError } from '../lib/errors.js';
import { CORE_GROUP } from './schemas.js';
import { CORE_USER } from './urns.js';

// Sortable attributes and the column each sorts by; the id breaks ties so pages are stable.
const SORTABLE: Record<string, RawBuilder<unknown>> = {
  id: sql`u.id`,
  username: sql`u.user_name_key`,
  externalid: sql`u.external_id`,
  displayname: sql`lower(coalesce(u.display_name, concat_ws(' ', u.given_name, u.family_name)))`,
  'name.givenname': sql`lower(u.given_name)`,
  'name.familyname': sql`lower(u.family_name)`,
  'name.formatted': sql`lower(coalesce(u.display_name, concat_ws(' ', u.given_name, u.family_name)))`,
  emails: sql`u.email_key`,
  'emails.value': sql`u.email_key`,
  active: sql`(u.status <> 'deactivated')`,
  'meta.created': sql`u.created_at`,
  'meta.lastmodified': sql`u.updated_at`,
};

/** ORDER BY for sortBy/sortOrder (RFC 7644 §3.4.2.3); creation order when no sortBy is given. */
export function userOrderSql(sortBy: string | undefined, sortOrder: string | undefined): RawBuilder<unknown> {
  const descending = sortOrder !== undefined && /^descending$/i.test(sortOrder);
  if (sortOrder !== undefined && !/^(a|de)scending$/i.test(sortOrder)) {
    throw new ScimError(400, 'invalidValue', 'sortOrder must be ascending or descending.');
  }
  if (!sortBy) return descending ? sql`u.id desc` : sql`u.id`;
  let key = sortBy.trim().toLowerCase();
  if (key.startsWith(`${CORE_USER.toLowerCase()}:`)) key = key.slice(CORE_USER.length + 1);
  const column = Object.hasOwn(SORTABLE, key) ? SORTABLE[key] : undefined;
  if (!column)
    throw new ScimError(
      400,
      'invalidValue',
      `Sorting by '${sortBy}' is not supported; sort by ${Object.keys(SORTABLE).join(', ')}.`,
    );
  return descending ? sql`${column} desc nulls last, u.id desc` : sql`${column} asc nulls last, u.id`;
}

const GROUP_SORTABLE: Record<string, RawBuilder<unknown>> = {
  id: sql`g.id`,
  displayname: sql`g.name_key`,
  externalid: sql`g.external_id`,
  'meta.created': sql`g.created_at`,
  'meta.lastmodified': sql`g.updated_at`,
};

/** ORDER BY for a Groups list over `roles g`; creation order when no sortBy is given. */
export function groupOrderSql(
  sortBy: string | undefined,
  sortOrder: string | undefined,
): RawBuilder<unknown> {
  const descending = sortOrder !== undefined && /^descending$/i.test(sortOrder);
  if (sortOrder !== undefined && !/^(a|de)scending$/i.test(sortOrder)) {
    throw new ScimError(400, 'invalidValue', 'sortOrder must be ascending or descending.');
  }
  if (!sortBy) return descending ? sql`g.id desc` : sql`g.id`;
  let key = sortBy.trim().toLowerCase();
  if (key.startsWith(`${CORE_GROUP.toLowerCase()}:`)) key = key.slice(CORE_GROUP.length + 1);
  const column = Object.hasOwn(GROUP_SORTABLE, key) ? GROUP_SORTABLE[key] : undefined;
  if (!column)
    throw new ScimError(
      400,
      'invalidValue',
      `Sorting groups by '${sortBy}' is not supported; sort by id, displayName, externalId, meta.created or meta.lastModified.`,
    );
  return descending ? sql`${column} desc nulls last, g.id desc` : sql`${column} asc nulls last, g.id`;
}
