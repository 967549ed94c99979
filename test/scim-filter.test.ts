import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { ScimError } from '../src/lib/errors.js';
import { provision, type ProvisionItem } from '../src/provisioning/engine.js';
import { parseUserFilter, userFilterSql } from '../src/scim/filter/sql.js';
import { ENTERPRISE_USER } from '../src/scim/schema/urns.js';
import { useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';

const ctx = useTestContext();

const B = 'bjensen@example.com';
const J = 'john.smith@example.com';
const A = 'alice@other.test';
const U = 'ab@example.com';
const ALL = [U, A, B, J];
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';

const users: ProvisionItem[] = [
  {
    key: 'b',
    userName: B,
    email: B,
    givenName: 'Barbara',
    familyName: 'Jensen',
    displayName: 'Babs Jensen',
    externalId: 'EXT-bj',
    role: 'Admin',
    location: 'London',
    emails: [
      { value: B, type: 'work', primary: true },
      { value: 'babs@home.example', type: 'home' },
    ],
    attributes: {
      title: 'Tour Guide',
      userType: 'Employee',
      name: { formatted: 'Ms. Barbara J Jensen III', middleName: 'Jane' },
      phoneNumbers: [{ value: '+44 20 7946 0001', type: 'work' }],
      [ENTERPRISE_USER]: {
        employeeNumber: '701984',
        costCenter: '4130',
        organization: 'Universal Studios',
        division: 'Theme Park',
        department: 'Tour Operations',
        manager: { value: 'mgr-1', displayName: 'John Smith' },
      },
    },
  },
  {
    key: 'j',
    userName: 'John.Smith@Example.com',
    email: J,
    givenName: 'John',
    familyName: 'Smith',
    externalId: 'ext-js',
    role: 'Customer Success',
    emails: [
      { value: J, type: 'work', primary: true },
      { value: 'x@home.example', type: 'home' },
    ],
    attributes: {
      title: 'Manager',
      userType: 'Contractor',
      [ENTERPRISE_USER]: { employeeNumber: '1001', department: 'Sales' },
    },
  },
  // Created the REST way: no typed e-mails, so SCIM shows its e-mail as the primary work one.
  {
    key: 'a',
    userName: A,
    email: A,
    displayName: 'Alice Ng',
    role: 'Agent',
    location: 'São Paulo',
    active: false,
  },
  {
    key: 'u',
    userName: 'a_b%c@example.com',
    email: U,
    displayName: 'Under Score',
    role: 'Agent',
    emails: [
      { value: 'x@corp.test', type: 'home' },
      { value: 'y@corp.test', type: 'work' },
    ],
    attributes: { title: 'The "Boss"', nickName: 'a\\b' },
  },
];

let ws: string;
const ids: Record<string, string> = {};

async function run(filter: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('users as u')
    .select('u.email')
    .where('u.workspace_id', '=', ws)
    .where('u.deleted_at', 'is', null)
    .where(userFilterSql(parseUserFilter(filter), { alias: 'u' }))
    .orderBy('u.email')
    .execute();
  return rows.map((r) => r.email ?? '');
}

function rejects(filter: string, detail: RegExp): void {
  let error: unknown;
  try {
    parseUserFilter(filter);
  } catch (e) {
    error = e;
  }
  expect(error, filter).toBeInstanceOf(ScimError);
  expect(error).toMatchObject({ status: 400, scimType: 'invalidFilter' });
  expect((error as ScimError).detail).toMatch(detail);
}

beforeAll(async () => {
  ws = (
    await makeWorkspace(ctx.db, {
      roles: ['Admin', 'Customer Success', 'Agent'],
      locations: ['London', 'São Paulo'],
    })
  ).workspaceId;
  const opts = {
    mode: 'create',
    dryRun: false,
    sendInvites: false,
    source: 'scim',
    actor: 'test',
    activateUninvited: true,
  } as const;
  const results = await provision(ctx.db, ws, users, opts);
  expect(results.map((r) => r.errorCode ?? r.status)).toEqual(['created', 'created', 'created', 'created']);
  results.forEach((r) => (ids[r.key] = r.userId!));
  // Deleted users are hidden by the caller's scoping; another workspace's users by its workspace_id.
  const gone = await provision(
    ctx.db,
    ws,
    [{ key: 'd', userName: 'gone@example.com', email: 'gone@example.com', displayName: 'Gone' }],
    opts,
  );
  await provision(ctx.db, ws, [{ key: 'd', userId: gone[0]!.userId!, op: 'delete' }], {
    ...opts,
    mode: 'upsert',
  });
  const other = (await makeWorkspace(ctx.db)).workspaceId;
  await provision(ctx.db, other, [{ key: 'o', userName: B, email: B, displayName: 'Other Babs' }], opts);
  const times: [string, string, string][] = [
    ['b', '2026-01-01T00:00:00Z', '2026-03-01T10:00:00.123456Z'],
    ['j', '2026-02-01T00:00:00Z', '2026-03-02T00:00:00Z'],
    ['a', '2026-02-15T12:00:00Z', '2026-03-03T00:00:00Z'],
    ['u', '2026-02-20T00:00:00+02:00', '2026-03-04T00:00:00Z'],
  ];
  for (const [key, created, updated] of times) {
    await sql`update users set created_at = ${created}, updated_at = ${updated} where id = ${ids[key]}`.execute(
      ctx.db,
    );
  }
});

describe('userFilterSql', () => {
  it.each([
    ['userName eq "bjensen@example.com"', [B]],
    ['userName eq "  JOHN.SMITH@example.COM "', [J]],
    ['userName ne "bjensen@example.com"', [U, A, J]],
    ['userName co "SMITH"', [J]],
    ['userName sw "BJ"', [B]],
    ['userName ew "@other.test"', [A]],
    ['userName co "_"', [U]],
    ['userName co "%"', [U]],
    ['userName sw "a_"', [U]],
    ['userName gt "c"', [J]],
    ['userName lt "b"', [U, A]],
    ['userName pr', ALL],
    ['userName eq "gone@example.com"', []],
  ])('userName (case-insensitive; LIKE escaped): %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    ['externalId eq "EXT-bj"', [B]],
    ['externalId eq "ext-bj"', []],
    ['externalId co "xt-"', [J]],
    ['externalId pr', [B, J]],
    ['displayName eq "babs jensen"', [B]],
    ['displayName eq "John Smith"', [J]],
    ['displayName co "NG"', [A]],
    // name.formatted is what was sent (kept apart from displayName), so only Babs has one.
    ['name.formatted eq "ms. barbara j jensen iii"', [B]],
    ['name.formatted pr', [B]],
    ['name.middleName eq "JANE"', [B]],
    ['roles.value eq "admin"', [B]],
    ['roles[value eq "Customer Success" and primary eq "True"]', [J]],
    ['name.givenName eq "barbara"', [B]],
    ['name.familyName sw "sm"', [J]],
    ['name.givenName pr', [B, J]],
    ['title eq "tour guide"', [B]],
    ['title eq "The \\"Boss\\""', [U]],
    ['nickName eq "a\\\\b"', [U]],
    ['title pr', [U, B, J]],
    ['title eq null', [A]],
    ['title ne null', [U, B, J]],
    ['title ne "Tour Guide"', [U, A, J]],
    ['not (title eq "Tour Guide")', [U, A, J]],
    ['title gt "n"', [U, B]],
    ['title le "Manager"', [J]],
    ['userType eq "employee"', [B]],
  ])('single-valued strings (caseExact per schema): %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    ['active eq true', [U, B, J]],
    ['active eq TRUE', [U, B, J]],
    ['active eq false', [A]],
    ['active ne true', [A]],
    ['active eq "False"', [A]],
    ['active pr', ALL],
  ])('active: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    ['emails eq "babs@home.example"', [B]],
    ['emails.value eq "BABS@HOME.EXAMPLE"', [B]],
    ['emails.value eq "alice@other.test"', [A]],
    ['emails.value co "home.example"', [B, J]],
    ['emails.value ew "@corp.test"', [U]],
    ['emails.type eq "home"', [U, B, J]],
    ['emails.type eq "work"', ALL],
    ['emails.primary eq true', [A, B, J]],
    ['emails.primary eq false', [U, B, J]],
    ['emails pr', ALL],
    ['emails[type eq "work" and value co "@example.com"]', [B, J]],
    ['emails[not (type eq "work")]', [U, B, J]],
    ['emails[type eq "home"].value eq "x@corp.test"', [U]],
    ['emails[type eq "work"].value eq "x@corp.test"', []],
    ['emails[type eq "work"] and emails.value eq "x@corp.test"', [U]],
    ['emails[type eq "work"].value ne "y@corp.test"', [A, B, J]],
    ['emails[primary eq true].value pr', [A, B, J]],
    ['phoneNumbers.value sw "+44"', [B]],
    ['phoneNumbers[type eq "work"]', [B]],
    ['phoneNumbers pr', [B]],
  ])('multi-valued attributes and value paths: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    [`${ENT}:employeeNumber eq "701984"`, [B]],
    ['employeeNumber eq "1001"', [J]],
    [`${ENT}:department co "SALES"`, [J]],
    ['costCenter eq "4130"', [B]],
    ['organization sw "universal"', [B]],
    ['division eq "theme park"', [B]],
    [`${ENT}:manager.value eq "MGR-1"`, [B]],
    ['manager.displayName eq "john smith"', [B]],
    [`${LOOPIT}:role eq "admin"`, [B]],
    ['role eq " CUSTOMER SUCCESS "', [J]],
    ['role co "succ"', [J]],
    ['role ne "Agent"', [B, J]],
    ['role pr', ALL],
    [`${LOOPIT}:location eq "SÃO PAULO"`, [A]],
    ['location eq "são paulo"', [A]],
    ['location ne "London"', [U, A, J]],
    ['location pr', [A, B]],
  ])('EnterpriseUser and Loopit extension attributes: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"', [B]],
    ['URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:NAME.GIVENNAME eq "John"', [J]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "home"]', [U, B, J]],
    ['USERNAME EQ "bjensen@example.com"', [B]],
    ['Emails[Type Eq "home"] AnD TITLE Pr', [U, B, J]],
  ])('attribute names and operators ignore case, with or without the URN: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it.each([
    ['(title eq "Manager" or title eq "Tour Guide") and active eq true', [B, J]],
    ['title eq "Manager" or title eq "Tour Guide" and userType eq "Contractor"', [J]],
    ['title eq "Tour Guide" and userType eq "Employee" or role eq "Agent"', [U, A, B]],
    ['not (active eq true or title pr)', [A]],
    ['not (not (title pr))', [U, B, J]],
    ['not (emails.type eq "home") and not (location eq "London")', [A]],
    ['((((userName sw "b"))))', [B]],
  ])('and, or, not and grouping: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it('matches id exactly; a value that is not a UUID matches nothing (eq) or everything (ne)', async () => {
    expect(await run(`id eq "${ids.b}"`)).toEqual([B]);
    expect(await run(`id eq "${ids.b!.toUpperCase()}"`)).toEqual([B]);
    expect(await run('id eq "not-a-uuid"')).toEqual([]);
    expect(await run('id ne "not-a-uuid"')).toEqual(ALL);
    expect(await run(`id ew "${ids.j!.slice(-12).toUpperCase()}"`)).toEqual([J]);
  });

  it.each([
    ['meta.created eq "2026-01-01T00:00:00Z"', [B]],
    ['meta.created gt "2026-02-01T00:00:00Z"', [U, A]],
    ['meta.created ge "2026-02-01T00:00:00Z"', [U, A, J]],
    ['meta.created lt "2026-02-01T00:00:00Z"', [B]],
    ['meta.created le "2026-02-01T00:00:00Z"', [B, J]],
    ['meta.created eq "2026-02-19T22:00:00Z"', [U]],
    ['meta.created eq "2026-02-20T00:00:00+02:00"', [U]],
    ['meta.lastModified eq "2026-03-01T10:00:00.123Z"', [B]],
    ['meta.lastModified eq "2026-03-01T10:00:00Z"', [B]],
    ['meta.lastModified eq "2026-03-01T10:00:00.123456Z"', [B]],
    ['meta.lastModified eq "2026-03-01T10:00:00.124Z"', []],
    ['meta.lastModified gt "2026-03-01T10:00:00.123Z"', [U, A, J]],
    ['meta.lastModified ge "2026-03-01T10:00:00.123Z"', ALL],
    ['meta.lastModified lt "2026-03-01T10:00:00.124Z"', [B]],
    ['meta.lastModified le "2026-03-01T10:00:00.123Z"', [B]],
    ['meta.lastModified ne "2026-03-02T00:00:00Z"', [U, A, B]],
    ['meta.lastModified gt "2026-03-02T12:00:00"', [U, A]],
    ['meta.lastModified pr', ALL],
  ])('meta.created and meta.lastModified, at the precision given: %s', async (filter, expected) => {
    expect(await run(filter)).toEqual(expected);
  });

  it('binds every value: an injection attempt matches nothing and harms nothing', async () => {
    expect(await run(`userName eq "x' or 1=1 --"`)).toEqual([]);
    expect(await run(`title co "%' or '1'='1"`)).toEqual([]);
    expect(await run(`displayName eq "x'); drop table users; --"`)).toEqual([]);
    expect(await run(`${ENT}:department eq "') or true or ('"`)).toEqual([]);
    const compiled = userFilterSql(parseUserFilter(`userName eq "x' or 1=1 --"`), { alias: 'u' }).compile(
      ctx.db,
    );
    expect(compiled.sql).not.toContain('1=1');
    expect(compiled.parameters).toEqual(["x' or 1=1 --"]);
    expect(await run('userName pr')).toEqual(ALL);
  });
});

describe('parseUserFilter errors (400 invalidFilter)', () => {
  it.each([
    ['userName eq', /not valid SCIM filter syntax/],
    ['userName eq "x" and', /not valid SCIM filter syntax/],
    ['(userName eq "x"', /not valid SCIM filter syntax/],
    ['userName zz "x"', /not valid SCIM filter syntax/],
    ['userName eq "x" )', /not valid SCIM filter syntax/],
    ['userName eq "x" $', /not valid SCIM filter syntax/],
    ['userName eq "x', /quoted value starting at character 13 is not closed/],
    ['userName eq "a\nb"', /control character/],
    ['', /empty/],
  ])('unparsable: %j', (filter, detail) => rejects(filter, detail));

  it.each([
    ['userName eq bjensen', /bjensen after 'eq' is not quoted/],
    ['title co Manager', /Manager after 'co' is not quoted/],
    [`${ENT}:employeeNumber eq 701984`, /employeeNumber is a string: put the value in double quotes/],
    ['displayName eq true', /displayName is a string/],
  ])('unquoted strings: %s', (filter, detail) => rejects(filter, detail));

  it.each([
    ['foo eq "x"', /Unknown attribute 'foo'/],
    [`${ENT}:userName eq "x"`, /Unknown attribute/],
    ['groups.value eq "x"', /'groups.value' cannot be used in a filter/],
    ['roles.display eq "Admin"', /'roles.display' cannot be used in a filter|not a sub-attribute/],
    ['name eq "x"', /complex attribute.*name\.givenName/],
    ['emails[foo eq "x"]', /'foo' is not a sub-attribute of emails/],
    ['name[givenName eq "x"]', /not a multi-valued attribute/],
    ['emails[phoneNumbers[type eq "x"]]', /cannot be nested|not a sub-attribute/],
  ])('unknown or unusable attributes: %s', (filter, detail) => rejects(filter, detail));

  it.each([
    ['active gt true', /active is a boolean: use eq, ne or pr, not gt/],
    ['active co "t"', /active is a boolean/],
    ['active eq "yes"', /active is a boolean: compare it with true or false/],
    ['emails.primary lt true', /primary is a boolean/],
    ['meta.created co "2026"', /date and time: use eq, ne, gt, ge, lt, le or pr, not co/],
    ['title gt null', /null can only be compared with eq or ne/],
  ])('operators that do not fit the type: %s', (filter, detail) => rejects(filter, detail));

  it.each([
    'meta.lastModified gt "yesterday"',
    'meta.created eq "2026-02-30T00:00:00Z"',
    'meta.created gt "2026-11-28T25:00:00Z"',
    'meta.created gt "2026-11-28"',
    'meta.created gt 20261128',
  ])('invalid dates: %s', (filter) => rejects(filter, /takes a date and time such as/));

  it('limits length and nesting depth', () => {
    rejects(`userName eq "${'a'.repeat(5000)}"`, /longer than 4096 characters/);
    rejects(`${'('.repeat(60)}userName pr${')'.repeat(60)}`, /nests deeper than 50 levels/);
    rejects(`${'not '.repeat(60)}userName pr`, /nests deeper than 50 levels/);
    expect(() => parseUserFilter(`${'('.repeat(40)}userName pr${')'.repeat(40)}`)).not.toThrow();
  });

  it('answers an unclosed string full of line breaks at once (no regex backtracking)', () => {
    const started = Date.now();
    rejects(`userName eq "${'\n'.repeat(2000)}`, /control character/);
    rejects(`userName eq "x" or title eq "${'\n'.repeat(40)}`, /control character/);
    rejects(`userName eq "${'a'.repeat(4000)}`, /not closed/);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('indexes, on a workspace of 20,000 users', () => {
  let bulk: string;

  beforeAll(async () => {
    bulk = (await makeWorkspace(ctx.db)).workspaceId;
    await sql`insert into users (workspace_id, user_name, user_name_key, email, email_key, direct_role_id, role_id,
        status, external_id, emails)
      select ${bulk}, e, e, e, e, r.id, r.id, 'active', 'ext-' || i,
        jsonb_build_array(jsonb_build_object('value', e, 'type', 'work', 'primary', true),
                          jsonb_build_object('value', 'home' || i || '@bulk.test', 'type', 'home'))
      from generate_series(1, 20000) i, lateral (select 'user' || i || '@bulk.test' as e) x,
        (select id from roles where workspace_id = ${bulk} limit 1) r`.execute(ctx.db);
    await sql`analyze users`.execute(ctx.db);
  });

  async function plan(filter: string): Promise<string> {
    const rows = await ctx.db
      .selectFrom('users as u')
      .select('u.id')
      .where('u.workspace_id', '=', bulk)
      .where('u.deleted_at', 'is', null)
      .where(userFilterSql(parseUserFilter(filter), { alias: 'u' }))
      .explain();
    return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
  }

  it('makes userName eq, externalId eq and emails.value eq index lookups', async () => {
    expect(await plan('userName eq "USER42@bulk.test"')).toMatch(
      /Index Scan using users_user_name_key_unique[\s\S]*user_name_key = /,
    );
    expect(await plan('externalId eq "ext-42"')).toMatch(/Index Scan using users_external_id_unique/);
    const emails = await plan('emails.value eq "Home42@bulk.test"');
    expect(emails).toMatch(/Bitmap Index Scan on users_email_key_unique/);
    expect(emails).toMatch(/Bitmap Index Scan on users_emails_lower_gin/);
    expect(await plan('emails[type eq "home"].value eq "home42@bulk.test"')).toMatch(
      /users_emails_lower_gin/,
    );
  });

  it('finds the one user among 20,000 through those indexes', async () => {
    const found = async (filter: string) =>
      (
        await ctx.db
          .selectFrom('users as u')
          .select('u.email')
          .where('u.workspace_id', '=', bulk)
          .where('u.deleted_at', 'is', null)
          .where(userFilterSql(parseUserFilter(filter), { alias: 'u' }))
          .execute()
      ).map((r) => r.email);
    expect(await found('emails.value eq "Home42@bulk.test"')).toEqual(['user42@bulk.test']);
    expect(await found('emails[type eq "work"].value eq "home42@bulk.test"')).toEqual([]);
    expect(await found('userName eq "USER42@bulk.test" and externalId eq "ext-42"')).toEqual([
      'user42@bulk.test',
    ]);
  });
});
