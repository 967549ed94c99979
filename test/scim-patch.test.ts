import { describe, expect, it } from 'vitest';
import { ScimError } from '../src/lib/errors.js';
import { applyPatch, type ScimUserJson } from '../src/scim/patch/user-patch.js';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const makeUser = (overrides: ScimUserJson = {}): ScimUserJson => ({
  schemas: [CORE],
  id: '9d2f3c1e-0000-4000-8000-000000000001',
  externalId: 'ext-1',
  userName: 'ana@example.com',
  name: { givenName: 'Ana', familyName: 'Silva', formatted: 'Ana Silva' },
  displayName: 'Ana Silva',
  active: true,
  emails: [
    { value: 'ana@example.com', type: 'work', primary: true },
    { value: 'ana@home.example', type: 'home' },
  ],
  phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
  meta: { resourceType: 'User', version: 'W/"1"' },
  ...overrides,
});

const body = (...operations: unknown[]): unknown => ({ schemas: [PATCH_OP], Operations: operations });
const patch = (user: ScimUserJson, ...operations: unknown[]): ScimUserJson =>
  applyPatch(user, body(...operations));

function scimError(run: () => unknown): ScimError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError');
}

const failure = (user: ScimUserJson, ...operations: unknown[]): { scimType?: string; detail: string } => {
  const error = scimError(() => patch(user, ...operations));
  expect(error.status).toBe(400);
  return { scimType: error.scimType, detail: error.detail };
};

describe('applyPatch: what identity providers send', () => {
  it('applies Entra ID’s capitalised ops, value-filter path, URN path and "False" in one request', () => {
    const request = {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@x.com' },
        { op: 'Replace', path: 'name.givenName', value: 'Bo' },
        { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Sales' },
        { op: 'Replace', path: 'active', value: 'False' },
      ],
    };
    const result = applyPatch(makeUser(), request);
    expect(result.emails).toEqual([
      { value: 'new@x.com', type: 'work', primary: true },
      { value: 'ana@home.example', type: 'home' },
    ]);
    expect(result.name).toEqual({ givenName: 'Bo', familyName: 'Silva', formatted: 'Ana Silva' });
    expect(result[ENTERPRISE]).toEqual({ department: 'Sales' });
    expect(result.active).toBe(false);
    expect(result.schemas).toEqual([CORE, ENTERPRISE]);
  });

  it('applies Okta’s path-less replace of active', () => {
    const result = patch(makeUser(), { op: 'replace', value: { active: false } });
    expect(result).toEqual({ ...makeUser(), active: false });
  });

  it('applies Entra ID’s path-less values with dotted, URN and URN-object keys', () => {
    const result = patch(makeUser(), {
      op: 'Replace',
      value: {
        'name.familyName': 'Costa',
        [`${ENTERPRISE}:employeeNumber`]: '701',
        [ENTERPRISE]: { costCenter: 'CC-9', Manager: { value: 'boss-id' } },
        [`${LOOPIT}:role`]: 'Admin',
        Active: 'True',
        title: 'Engineer',
      },
    });
    expect(result.name).toEqual({ givenName: 'Ana', familyName: 'Costa', formatted: 'Ana Silva' });
    expect(result[ENTERPRISE]).toEqual({
      employeeNumber: '701',
      costCenter: 'CC-9',
      manager: { value: 'boss-id' },
    });
    expect(result[LOOPIT]).toEqual({ role: 'Admin' });
    expect(result.active).toBe(true);
    expect(result.title).toBe('Engineer');
    expect(result.schemas).toEqual([CORE, ENTERPRISE, LOOPIT]);
  });

  it('accepts Entra ID’s manager sent as the manager’s id alone, and its removal', () => {
    const added = patch(makeUser(), { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'boss-id' });
    expect(added[ENTERPRISE]).toEqual({ manager: { value: 'boss-id' } });
    const removed = patch(added, {
      op: 'Remove',
      path: `${ENTERPRISE}:manager`,
      value: [{ value: 'boss-id' }],
    });
    expect(removed[ENTERPRISE]).toBeUndefined();
    expect(removed.schemas).toEqual([CORE]);
  });

  it('sets URN-qualified core, enterprise sub-attribute and Loopit extension paths', () => {
    const result = patch(
      makeUser(),
      { op: 'replace', path: `${CORE}:userName`, value: 'ana.s@example.com' },
      { op: 'add', path: `${ENTERPRISE}:manager.value`, value: 'm-1' },
      { op: 'add', path: `${LOOPIT}:location`, value: 'Lisbon' },
    );
    expect(result.userName).toBe('ana.s@example.com');
    expect(result[ENTERPRISE]).toEqual({ manager: { value: 'm-1' } });
    expect(result[LOOPIT]).toEqual({ location: 'Lisbon' });
  });
});

describe('applyPatch: names and values', () => {
  it('matches op, attribute and sub-attribute names case-insensitively and writes canonical names', () => {
    const result = patch(
      makeUser(),
      { op: 'REPLACE', value: { USERNAME: 'x@example.com', 'NAME.GIVENNAME': 'Bea' } },
      { op: 'Add', path: 'PhoneNumbers[TYPE eq "Mobile"].Value', value: '+1 555 0199' },
      { op: 'add', path: 'NAME', value: { MiddleName: 'J' } },
    );
    expect(result.userName).toBe('x@example.com');
    expect(result).not.toHaveProperty('USERNAME');
    expect(result.name).toMatchObject({ givenName: 'Bea', middleName: 'J' });
    expect(result.phoneNumbers).toEqual([
      { value: '+1 555 0100', type: 'work' },
      { type: 'Mobile', value: '+1 555 0199' },
    ]);
  });

  it('converts "True", "False" and "true" for boolean attributes and refuses other strings', () => {
    const result = patch(
      makeUser({ active: false }),
      { op: 'replace', path: 'active', value: 'true' },
      { op: 'replace', path: 'emails[type eq "home"].primary', value: 'True' },
    );
    expect(result.active).toBe(true);
    expect(result.emails).toEqual([
      { value: 'ana@example.com', type: 'work', primary: false },
      { value: 'ana@home.example', type: 'home', primary: true },
    ]);
    expect(failure(makeUser(), { op: 'replace', path: 'active', value: 'yes' }).scimType).toBe(
      'invalidValue',
    );
    expect(failure(makeUser(), { op: 'replace', path: 'active', value: 1 }).scimType).toBe('invalidValue');
  });

  it('refuses values of the wrong type with invalidValue', () => {
    expect(failure(makeUser(), { op: 'replace', path: 'userName', value: 42 }).scimType).toBe('invalidValue');
    expect(failure(makeUser(), { op: 'replace', path: 'title', value: { a: 1 } }).scimType).toBe(
      'invalidValue',
    );
    expect(failure(makeUser(), { op: 'replace', path: 'name', value: 'Ana' }).scimType).toBe('invalidValue');
    expect(failure(makeUser(), { op: 'add', path: 'emails', value: [{ value: 7 }] }).scimType).toBe(
      'invalidValue',
    );
  });

  it('merges complex attributes for add and replace, keeping sub-attributes not given', () => {
    const result = patch(makeUser(), { op: 'replace', path: 'name', value: { familyName: 'Costa' } });
    expect(result.name).toEqual({ givenName: 'Ana', familyName: 'Costa', formatted: 'Ana Silva' });
  });

  it('adds to a multi-valued attribute, merging an element already there, and replace swaps the list', () => {
    const added = patch(makeUser(), {
      op: 'add',
      path: 'emails',
      value: [{ value: 'ANA@example.com', type: 'work', display: 'Ana' }, { value: 'a2@example.com' }],
    });
    expect(added.emails).toEqual([
      { value: 'ANA@example.com', type: 'work', primary: true, display: 'Ana' },
      { value: 'ana@home.example', type: 'home' },
      { value: 'a2@example.com' },
    ]);
    const replaced = patch(makeUser(), {
      op: 'replace',
      path: 'emails',
      value: [{ value: 'z@example.com' }],
    });
    expect(replaced.emails).toEqual([{ value: 'z@example.com' }]);
    const cleared = patch(makeUser(), { op: 'replace', value: { phoneNumbers: [] } });
    expect(cleared).not.toHaveProperty('phoneNumbers');
  });

  it('clears primary on the other elements when one becomes primary, and refuses two primaries', () => {
    const result = patch(makeUser(), {
      op: 'add',
      path: 'emails',
      value: [{ value: 'new@example.com', type: 'other', primary: true }],
    });
    expect((result.emails as { primary?: boolean }[]).map((e) => e.primary)).toEqual([
      false,
      undefined,
      true,
    ]);
    const two = [
      { value: 'a@example.com', primary: true },
      { value: 'b@example.com', primary: 'True' },
    ];
    expect(failure(makeUser(), { op: 'replace', path: 'emails', value: two }).scimType).toBe('invalidValue');
  });

  it('treats a null value as clearing the attribute', () => {
    const result = patch(makeUser({ title: 'Lead' }), { op: 'replace', path: 'title', value: null });
    expect(result).not.toHaveProperty('title');
  });

  it('matches value filters with and, or, not, ne, co, sw, ew and pr, case-insensitively', () => {
    const user = makeUser();
    const filtered = (filter: string): unknown[] =>
      patch(user, { op: 'remove', path: `emails[${filter}]` }).emails as unknown[];
    expect(filtered('type eq "WORK" and value sw "ANA@"')).toEqual([
      { value: 'ana@home.example', type: 'home' },
    ]);
    expect(filtered('type eq "x" or value ew ".EXAMPLE"')).toEqual([(user.emails as unknown[])[0]]);
    expect(filtered('value co "HOME"')).toHaveLength(1);
    expect(filtered('type ne "work"')).toHaveLength(1);
    expect(filtered('not (primary pr)')).toHaveLength(1);
    expect(filtered('(primary eq true)')).toEqual([{ value: 'ana@home.example', type: 'home' }]);
    expect(patch(user, { op: 'remove', path: 'emails[value pr]' })).not.toHaveProperty('emails');
  });
});

describe('applyPatch: unmatched value filters (DESIGN)', () => {
  it('creates the element for an add whose filter matches nothing', () => {
    const result = patch(makeUser(), {
      op: 'Add',
      path: 'addresses[type eq "work"].streetAddress',
      value: '1 Main St',
    });
    expect(result.addresses).toEqual([{ type: 'work', streetAddress: '1 Main St' }]);
  });

  it('creates the element for a replace on a [type eq "..."] filter, with and without a sub-attribute', () => {
    const result = patch(
      makeUser(),
      { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0111' },
      { op: 'Replace', path: 'emails[type eq "other"]', value: { value: 'o@example.com', primary: 'False' } },
    );
    expect(result.phoneNumbers).toEqual([
      { value: '+1 555 0100', type: 'work' },
      { type: 'mobile', value: '+1 555 0111' },
    ]);
    expect((result.emails as unknown[])[2]).toEqual({
      type: 'other',
      value: 'o@example.com',
      primary: false,
    });
  });

  it('answers noTarget for any other unmatched replace, and for an unmatched remove', () => {
    expect(
      failure(makeUser(), { op: 'replace', path: 'emails[value eq "no@x.com"].type', value: 'work' }),
    ).toEqual({
      scimType: 'noTarget',
      detail: expect.stringContaining('Operations[0] (replace "emails[value eq \\"no@x.com\\"].type")'),
    });
    expect(
      failure(makeUser(), { op: 'replace', path: 'emails[type sw "q" or type eq "x"]', value: {} }).scimType,
    ).toBe('noTarget');
    expect(failure(makeUser(), { op: 'remove', path: 'emails[type eq "other"]' }).scimType).toBe('noTarget');
    expect(failure(makeUser(), { op: 'remove', path: 'addresses[type eq "work"].region' }).scimType).toBe(
      'noTarget',
    );
  });

  it('removes a matched element, or a sub-attribute and then an element left empty', () => {
    const result = patch(
      makeUser(),
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'remove', path: 'phoneNumbers[type eq "work"].value' },
      { op: 'remove', path: 'name.formatted' },
    );
    expect(result.emails).toEqual([{ value: 'ana@example.com', type: 'work', primary: true }]);
    expect(result).not.toHaveProperty('phoneNumbers');
    expect(result.name).toEqual({ givenName: 'Ana', familyName: 'Silva' });
  });
});

describe('applyPatch: refusals', () => {
  it('refuses remove without a path with noTarget', () => {
    expect(failure(makeUser(), { op: 'remove' }).scimType).toBe('noTarget');
  });

  it('refuses removing userName and any operation on id, meta, groups or schemas with mutability', () => {
    expect(failure(makeUser(), { op: 'remove', path: 'userName' }).scimType).toBe('mutability');
    expect(failure(makeUser(), { op: 'replace', path: 'userName', value: null }).scimType).toBe('mutability');
    expect(failure(makeUser(), { op: 'replace', path: 'id', value: 'x' }).scimType).toBe('mutability');
    expect(failure(makeUser(), { op: 'remove', path: 'meta' }).scimType).toBe('mutability');
    expect(failure(makeUser(), { op: 'add', path: 'groups', value: [{ value: 'g' }] }).scimType).toBe(
      'mutability',
    );
    expect(failure(makeUser(), { op: 'replace', value: { id: 'x' } }).scimType).toBe('mutability');
    expect(failure(makeUser(), { op: 'replace', path: 'meta.version', value: 'x' }).scimType).toBe(
      'mutability',
    );
  });

  it.each([
    ['an unknown attribute', 'favouriteColour'],
    ['an unknown sub-attribute', 'name.nickname'],
    ['an unknown schema', 'urn:example:schema:User:x'],
    ['an unclosed filter', 'emails[type eq "work"'],
    ['an unquoted filter value', 'emails[type eq work]'],
    ['an unknown filter attribute', 'emails[kind eq "work"]'],
    ['an unknown operator', 'emails[type xx "work"]'],
    ['a filter on a single-valued attribute', 'name[givenName eq "x"]'],
    ['trailing text', 'title.x.y'],
    ['a sub-attribute of a list without a filter', 'emails.value'],
    ['a very long path', `title${'x'.repeat(2000)}`],
  ])('refuses %s with invalidPath', (_, path) => {
    expect(failure(makeUser(), { op: 'replace', path, value: 'v' }).scimType).toBe('invalidPath');
  });

  it('refuses unknown keys in values with invalidPath', () => {
    expect(failure(makeUser(), { op: 'replace', value: { nope: 1 } }).scimType).toBe('invalidPath');
    expect(failure(makeUser(), { op: 'add', path: 'name', value: { nick: 'x' } }).scimType).toBe(
      'invalidPath',
    );
  });

  it.each([
    ['a non-object body', []],
    [
      'a body without the PatchOp schema',
      { schemas: [CORE], Operations: [{ op: 'add', path: 'title', value: 'x' }] },
    ],
    ['no Operations', { schemas: [PATCH_OP] }],
    ['empty Operations', { schemas: [PATCH_OP], Operations: [] }],
    [
      'too many Operations',
      body(...Array.from({ length: 1001 }, () => ({ op: 'add', path: 'title', value: 'x' }))),
    ],
    ['an unknown op', body({ op: 'move', path: 'title', value: 'x' })],
    ['an operation that is not an object', body('add')],
    ['an add without value', body({ op: 'add', path: 'title' })],
    ['a path-less replace whose value is not an object', body({ op: 'replace', value: 'x' })],
  ])('refuses %s with invalidSyntax', (_, request) => {
    const error = scimError(() => applyPatch(makeUser(), request));
    expect([error.status, error.scimType]).toEqual([400, 'invalidSyntax']);
  });

  it('accepts 1000 operations and body member names in any case', () => {
    const ops = Array.from({ length: 1000 }, (_, i) => ({ OP: 'add', PATH: 'title', VALUE: `t${i}` }));
    expect(applyPatch(makeUser(), { SCHEMAS: [PATCH_OP], operations: ops }).title).toBe('t999');
  });

  it('refuses values nested too deeply or strings too long with invalidValue', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 12; i += 1) deep = { a: deep };
    expect(failure(makeUser(), { op: 'replace', value: deep }).scimType).toBe('invalidValue');
    expect(failure(makeUser(), { op: 'replace', path: 'title', value: 'x'.repeat(70_000) }).scimType).toBe(
      'invalidValue',
    );
  });

  it('names the operation index, the path and the value key in the detail', () => {
    const { detail } = failure(
      makeUser(),
      { op: 'add', path: 'title', value: 'x' },
      { op: 'Replace', value: { 'name.givenName': 5 } },
    );
    expect(detail).toBe('Operations[1] (replace): value key "name.givenName": givenName must be a string');
  });
});

describe('applyPatch: atomicity and hostile input', () => {
  it('applies nothing and leaves its argument untouched when the third operation fails', () => {
    const user = makeUser();
    const before = structuredClone(user);
    const error = scimError(() =>
      patch(
        user,
        { op: 'replace', path: 'name.givenName', value: 'Bo' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'bo@example.com' },
        { op: 'remove', path: 'emails[type eq "other"]' },
      ),
    );
    expect(error.scimType).toBe('noTarget');
    expect(error.detail).toContain('Operations[2]');
    expect(user).toEqual(before);
  });

  it('does not mutate its argument on success either, nor share objects with it', () => {
    const user = makeUser();
    const before = structuredClone(user);
    const result = patch(user, {
      op: 'replace',
      path: 'emails[type eq "work"].value',
      value: 'x@example.com',
    });
    expect(user).toEqual(before);
    expect(result.emails).not.toBe(user.emails);
  });

  it.each([
    ['a __proto__ path', { op: 'add', path: '__proto__', value: { polluted: 'yes' } }],
    ['a __proto__.x path', { op: 'add', path: '__proto__.polluted', value: 'yes' }],
    ['a constructor.prototype path', { op: 'add', path: 'constructor.prototype.polluted', value: 'yes' }],
    [
      'a URN-qualified __proto__ path',
      { op: 'add', path: `${ENTERPRISE}:__proto__`, value: { polluted: 'yes' } },
    ],
    [
      'a __proto__ key in a path-less value',
      { op: 'add', value: JSON.parse('{"__proto__":{"polluted":"yes"}}') },
    ],
    [
      'a __proto__ key in a complex value',
      { op: 'add', path: 'name', value: JSON.parse('{"__proto__":{"polluted":"yes"}}') },
    ],
    [
      'a prototype key in an element',
      { op: 'add', path: 'emails', value: [{ value: 'a@b.c', prototype: 'x' }] },
    ],
    [
      'a constructor key in an extension object',
      { op: 'add', value: { [ENTERPRISE]: { constructor: 'x' } } },
    ],
    ['a __proto__ filter attribute', { op: 'remove', path: 'emails[__proto__ pr]' }],
  ])('refuses %s with invalidPath and pollutes nothing', (_, operation) => {
    const result = failure(makeUser(), operation);
    expect(result.scimType).toBe('invalidPath');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
