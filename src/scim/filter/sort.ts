import { sql, type RawBuilder } from 'kysely';
import { ScimError } from '../../lib/errors.js';
import { GROUP_CATALOG, USER_CATALOG, type Catalog, type Storage } from './catalog.js';

/** The expression a stored attribute sorts by (text ignoring case unless caseExact); the catalogue decides which. */
function sortKey(storage: Storage, caseExact: boolean, t: string): RawBuilder<unknown> {
  const ci = (e: RawBuilder<unknown>) => (caseExact ? e : sql`lower(${e})`);
  switch (storage.kind) {
    case 'userName':
      return sql.ref(`${t}.user_name_key`);
    case 'groupName':
      return sql.ref(`${t}.name_key`);
    case 'id':
      return sql.ref(`${t}.id`);
    case 'active':
      return sql`(${sql.ref(`${t}.status`)} <> 'deactivated')`;
    case 'time':
      return sql.ref(`${t}.${storage.column}`);
    case 'column':
      return ci(sql.ref(`${t}.${storage.column}`));
    case 'displayName':
      return sql`lower(coalesce(${sql.ref(`${t}.display_name`)}, concat_ws(' ', ${sql.ref(`${t}.given_name`)}, ${sql.ref(`${t}.family_name`)})))`;
    case 'json': {
      const keys = storage.path.map((k) => sql.lit(k));
      const last = keys.pop();
      return ci(
        sql`${sql.ref(`${t}.attributes`)}${sql.join(
          keys.map((k) => sql`->${k}`),
          sql``,
        )}->>${last}`,
      );
    }
    case 'element':
      // The primary e-mail (the only sortable element) is the user's e-mail.
      return sql.ref(`${t}.email_key`);
    case 'named':
      // The extension's role and location are not sortable (the model marks them so).
      throw new Error(`no sort key for ${storage.table}`);
  }
}

function orderSql(catalog: Catalog, t: string, sortBy: string | undefined, sortOrder: string | undefined) {
  const descending = sortOrder !== undefined && /^descending$/i.test(sortOrder);
  if (sortOrder !== undefined && !/^(a|de)scending$/i.test(sortOrder)) {
    throw new ScimError(400, 'invalidValue', 'sortOrder must be ascending or descending.');
  }
  const id = sql.ref(`${t}.id`);
  if (!sortBy) return descending ? sql`${id} desc` : sql`${id}`;
  const attr = catalog.get(sortBy.trim());
  if (!attr?.storage || !attr.sortable) {
    throw new ScimError(
      400,
      'invalidValue',
      `Sorting ${catalog.resource === 'User' ? 'users' : 'groups'} by '${sortBy}' is not supported; sort by ${catalog.sortable().join(', ')}.`,
    );
  }
  const column = sortKey(attr.storage, attr.caseExact, t);
  return descending ? sql`${column} desc nulls last, ${id} desc` : sql`${column} asc nulls last, ${id}`;
}

/** ORDER BY for sortBy/sortOrder (RFC 7644 §3.4.2.3) over `users u`; creation order when no sortBy is given. */
export const userOrderSql = (
  sortBy: string | undefined,
  sortOrder: string | undefined,
): RawBuilder<unknown> => orderSql(USER_CATALOG, 'u', sortBy, sortOrder);

/** ORDER BY for a Groups list over `roles g`; creation order when no sortBy is given. */
export const groupOrderSql = (
  sortBy: string | undefined,
  sortOrder: string | undefined,
): RawBuilder<unknown> => orderSql(GROUP_CATALOG, 'g', sortBy, sortOrder);
