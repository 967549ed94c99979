import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { isUuid } from '../../lib/ids.js';
import { matchKey } from '../../lib/text.js';
import type { Collection, FilterAttribute, Storage } from './catalog.js';
import type { CompareOp, UserFilter } from './parse.js';

export {
  FILTER_MAX_DEPTH,
  FILTER_MAX_LENGTH,
  parseGroupFilter,
  parseUserFilter,
  type UserFilter,
} from './parse.js';

/**
 * SCIM filters on Users as SQL over `users <alias>`: one boolean expression, every value a bound
 * parameter. Self-contained: roles, locations and the jsonb arrays are reached through EXISTS
 * subqueries, so the caller joins nothing for it. NOT is `is not true`, so a missing value counts as
 * false and `not (title eq "x")` keeps users without a title, as `title ne "x"` does.
 */
export interface FilterContext {
  /** The alias of `users` in the caller's query. */
  alias: string;
}

type Expr = RawBuilder<unknown>;
type Bool = RawBuilder<SqlBool>;

// Collection elements are `f_el.el` and roles or locations `f_n`: aliases the caller is unlikely to use.
const EL = sql.ref('f_el.el');
const ORDER: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

const text = (value: string): Expr => sql`cast(${value} as text)`;

function likePattern(value: string, op: 'co' | 'sw' | 'ew'): string {
  const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
  return op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
}

function compareText(left: Expr, op: CompareOp, value: string, caseExact: boolean): Bool {
  const side = (x: Expr): Expr => (caseExact ? x : sql`lower(${x})`);
  if (op === 'eq') return sql<SqlBool>`${side(left)} = ${side(text(value))}`;
  if (op === 'co' || op === 'sw' || op === 'ew') {
    return sql<SqlBool>`${side(left)} like ${side(text(likePattern(value, op)))} escape '\\'`;
  }
  return sql<SqlBool>`${side(left)} ${sql.raw(ORDER[op])} ${side(text(value))}`;
}

/** Keys (NFC, trimmed, lower case) use the unique indexes: userName eq is an index lookup. */
function compareKey(key: Expr, op: CompareOp, value: string): Bool {
  if (op === 'eq') return sql<SqlBool>`${key} = ${matchKey(value)}`;
  if (op === 'co' || op === 'sw' || op === 'ew') {
    const pattern = likePattern(value.normalize('NFC').toLowerCase(), op);
    return sql<SqlBool>`${key} like ${pattern} escape '\\'`;
  }
  return sql<SqlBool>`${key} ${sql.raw(ORDER[op])} ${matchKey(value)}`;
}

function elements(collection: Collection, u: string): Expr {
  if (collection === 'members') {
    // A group's members as the resource shows them (groups are few per workspace; members[value eq]
    // is answered from the membership key instead, see any()).
    return sql`(select coalesce(jsonb_agg(jsonb_build_object('value', f_m.user_id::text, 'type', 'User',
        'display', coalesce(f_mu.display_name, f_mu.user_name))), '[]'::jsonb)
      from group_memberships f_m
      join users f_mu on f_mu.workspace_id = f_m.workspace_id and f_mu.id = f_m.user_id and (f_mu.deleted_at is null) is true
      where f_m.workspace_id = ${sql.ref(`${u}.workspace_id`)} and f_m.role_id = ${sql.ref(`${u}.id`)})`;
  }
  if (collection === 'roles') {
    // The user's one (effective) role, as the resource shows it.
    return sql`(select jsonb_build_array(jsonb_build_object('value', f_r.name, 'primary', true)) from roles f_r
      where f_r.workspace_id = ${sql.ref(`${u}.workspace_id`)} and f_r.id = ${sql.ref(`${u}.role_id`)})`;
  }
  if (collection === 'emails') {
    // What the SCIM resource shows: a user with no typed e-mails has its e-mail as the primary work one.
    const emails = sql.ref(`${u}.emails`);
    return sql`case when jsonb_typeof(${emails}) = 'array' and ${emails} <> '[]'::jsonb then ${emails}
      when ${sql.ref(`${u}.email`)} is null then '[]'::jsonb
      else jsonb_build_array(jsonb_build_object('value', ${sql.ref(`${u}.email`)}, 'type', 'work', 'primary', true)) end`;
  }
  const values = sql`${sql.ref(`${u}.attributes`)}->${sql.lit(collection)}`;
  return sql`case when jsonb_typeof(${values}) = 'array' then ${values} else '[]'::jsonb end`;
}

/** The text of a string attribute; attribute names are constants of the catalogue, never input. */
function textOf(storage: Storage, u: string): Expr {
  switch (storage.kind) {
    case 'column':
      return sql.ref(`${u}.${storage.column}`);
    case 'groupName':
      return sql.ref(`${u}.name`);
    case 'displayName':
      return sql`coalesce(${sql.ref(`${u}.display_name`)}, nullif(concat_ws(' ', nullif(${sql.ref(`${u}.given_name`)}, ''), nullif(${sql.ref(`${u}.family_name`)}, '')), ''))`;
    case 'json': {
      const keys = storage.path.map((k) => sql.lit(k));
      const last = keys.pop();
      return sql`${sql.ref(`${u}.attributes`)}${sql.join(
        keys.map((k) => sql`->${k}`),
        sql``,
      )}->>${last}`;
    }
    case 'element':
      return sql`${EL}->>${sql.lit(storage.key)}`;
    case 'id':
      return sql`${sql.ref(`${u}.id`)}::text`;
    default:
      throw new Error(`no text for ${storage.kind}`);
  }
}

const flag = (key: string): Expr =>
  sql`case lower(${EL}->>${sql.lit(key)}) when 'true' then true when 'false' then false end`;

function named(storage: Extract<Storage, { kind: 'named' }>, u: string, condition: Bool): Bool {
  return sql<SqlBool>`exists (select 1 from ${sql.table(storage.table)} as f_n
    where f_n.workspace_id = ${sql.ref(`${u}.workspace_id`)} and f_n.id = ${sql.ref(`${u}.${storage.column}`)}
      and ${condition})`;
}

function present(attr: FilterAttribute, u: string): Bool {
  const s = attr.storage!;
  switch (s.kind) {
    case 'userName':
    case 'groupName':
    case 'id':
    case 'active':
    case 'time':
      return sql<SqlBool>`true`;
    case 'named':
      return s.table === 'roles'
        ? sql<SqlBool>`true`
        : sql<SqlBool>`${sql.ref(`${u}.location_id`)} is not null`;
    default: {
      if (attr.type === 'boolean' && s.kind === 'element') return sql<SqlBool>`${flag(s.key)} is not null`;
      const e = textOf(s, u);
      return sql<SqlBool>`(${e} is not null and ${e} <> '')`;
    }
  }
}

function compareTime(column: Expr, op: CompareOp, value: string, precision: string): Bool {
  // A time given to the second equals every instant in that second (and so for milliseconds).
  const from = sql`cast(${value} as timestamptz)`;
  const to = sql`(cast(${value} as timestamptz) + cast(${precision} as interval))`;
  if (op === 'eq') return sql<SqlBool>`(${column} >= ${from} and ${column} < ${to})`;
  if (op === 'gt') return sql<SqlBool>`${column} >= ${to}`;
  if (op === 'ge') return sql<SqlBool>`${column} >= ${from}`;
  if (op === 'lt') return sql<SqlBool>`${column} < ${from}`;
  return sql<SqlBool>`${column} < ${to}`;
}

function compare(node: Extract<UserFilter, { kind: 'compare' }>, u: string): Bool {
  const { attr, op, value } = node;
  const s = attr.storage!;
  if (typeof value === 'boolean') {
    if (s.kind === 'active')
      return sql<SqlBool>`${sql.ref(`${u}.status`)} ${sql.raw(value ? '<>' : '=')} 'deactivated'`;
    return sql<SqlBool>`${flag((s as { key: string }).key)} ${sql.raw(value ? 'is true' : 'is not true')}`;
  }
  switch (s.kind) {
    case 'userName':
      return compareKey(sql.ref(`${u}.user_name_key`), op, value);
    case 'groupName':
      return compareKey(sql.ref(`${u}.name_key`), op, value);
    case 'id':
      if (op === 'eq')
        return isUuid(value)
          ? sql<SqlBool>`${sql.ref(`${u}.id`)} = ${value.toLowerCase()}::uuid`
          : sql<SqlBool>`false`;
      return compareText(textOf(s, u), op, value, false);
    case 'time':
      return compareTime(sql.ref(`${u}.${s.column}`), op, value, node.precision ?? '1 second');
    case 'named':
      return named(
        s,
        u,
        op === 'eq'
          ? compareKey(sql.ref('f_n.name_key'), op, value)
          : compareText(sql.ref('f_n.name'), op, value, false),
      );
    default:
      return compareText(textOf(s, u), op, value, attr.caseExact);
  }
}

const isValueEq = (f: UserFilter): f is Extract<UserFilter, { kind: 'compare' }> & { value: string } =>
  f.kind === 'compare' &&
  f.op === 'eq' &&
  typeof f.value === 'string' &&
  f.attr.storage?.kind === 'element' &&
  f.attr.storage.key === 'value';

function any(node: Extract<UserFilter, { kind: 'any' }>, u: string): Bool {
  const exists = sql<SqlBool>`exists (select 1 from jsonb_array_elements(${elements(node.collection, u)}) as f_el(el)
    where ${toSql(node.filter, u)})`;
  if (node.collection !== 'emails' && node.collection !== 'members') return exists;
  const eq = isValueEq(node.filter)
    ? node.filter
    : node.filter.kind === 'and'
      ? node.filter.filters.find(isValueEq)
      : undefined;
  if (!eq) return exists;
  if (node.collection === 'members') {
    // members[value eq "<user id>"]: the membership's primary key.
    if (!isUuid(eq.value)) return sql<SqlBool>`false`;
    const member = sql<SqlBool>`exists (select 1 from group_memberships f_m
      join users f_mu on f_mu.workspace_id = f_m.workspace_id and f_mu.id = f_m.user_id and (f_mu.deleted_at is null) is true
      where f_m.workspace_id = ${sql.ref(`${u}.workspace_id`)} and f_m.role_id = ${sql.ref(`${u}.id`)}
        and f_m.user_id = ${eq.value.toLowerCase()}::uuid)`;
    return node.filter === eq ? member : sql<SqlBool>`(${member} and ${exists})`;
  }
  // emails.value eq: the primary e-mail's unique index, or the GIN index over the lower-cased array.
  const probe = JSON.stringify([{ value: eq.value }]);
  // `emails <> '[]'` changes no result and implies the GIN index's partial predicate.
  const indexed = sql<SqlBool>`(${sql.ref(`${u}.email_key`)} = ${matchKey(eq.value)}
    or (${sql.ref(`${u}.emails`)} <> '[]'::jsonb
        and lower(${sql.ref(`${u}.emails`)}::text)::jsonb @> lower(${text(probe)})::jsonb))`;
  return node.filter === eq ? indexed : sql<SqlBool>`(${indexed} and ${exists})`;
}

function toSql(f: UserFilter, u: string): Bool {
  switch (f.kind) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(
        f.filters.map((x) => toSql(x, u)),
        sql.raw(` ${f.kind} `),
      )})`;
    case 'not':
      return sql<SqlBool>`((${toSql(f.filter, u)}) is not true)`;
    case 'present':
      return present(f.attr, u);
    case 'compare':
      return compare(f, u);
    case 'any':
      return any(f, u);
  }
}

/**
 * The filter as a WHERE condition on `users <alias>` (from parseUserFilter) or `roles <alias>` (from
 * parseGroupFilter); AND it with the workspace (and, for users, deleted_at) scoping.
 */
export function userFilterSql(filter: UserFilter, ctx: FilterContext): RawBuilder<SqlBool> {
  if (!/^[a-z_][a-z0-9_]*$/i.test(ctx.alias)) throw new Error(`not an SQL alias: ${ctx.alias}`);
  return toSql(filter, ctx.alias);
}
