import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  LOOPIT_USER_SCHEMA,
  SCHEMAS,
  USER_SCHEMA,
  served,
  type ScimAttribute,
  type ScimSchema,
} from '../src/scim/schema/model.js';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

/*
 * /Schemas held against behaviour. Every attribute the schema model declares gets generated cases, as
 * its characteristics say: readWrite ones are POSTed, PUT and PATCHed (add, replace, remove; with a
 * path, a value filter and path-less) and read back; readOnly ones are refused by PATCH and ignored by
 * POST and PUT; stored ones are filtered, sortable ones sorted; all are projected. An attribute added to
 * the model is tested without a test written for it; one the generator cannot handle fails the guard
 * below until it is handled or listed, with its reason, in EXCEPTIONS.
 */

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });
const CORE = USER_SCHEMA.id;
const LOOPIT = LOOPIT_USER_SCHEMA.id;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** The workspace's roles; the first is its default role. */
const ROLES = ['Admin', 'Agent', 'Viewer'];
const DEFAULT_ROLE = ROLES[0]!;
const LOCATIONS = ['London', 'Paris', 'Berlin'];

let token: string;
beforeAll(async () => {
  const ws = await makeWorkspace(ctx.db, { roles: ROLES, locations: ['London'] });
  token = await makeToken(ctx.db, ws.workspaceId, ['scim', 'users', 'admin']);
});

type Json = Record<string, any>; // SCIM resources under test
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const scim = (method: Method, url: string, body?: unknown) =>
  call(ctx.app, method, `/scim/v2${url}`, {
    token,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json' },
  });
const patch = (resource: 'Users' | 'Groups', id: string, ...Operations: unknown[]) =>
  scim('PATCH', `/${resource}/${id}`, { schemas: [PATCH_OP], Operations });
const q = (s: string) => encodeURIComponent(s);

// ---------------------------------------------------------------------------------------------------
// The model, flattened: one entry per attribute path, sub-attributes included.

interface Entry {
  /** As a SCIM path names it: `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`. */
  path: string;
  attr: ScimAttribute;
  /** The top-level attribute a sub-attribute belongs to. */
  parent?: ScimAttribute;
  /** The extension URN the attribute lives under (absent: core or common). */
  urn?: string;
  /** Read-only itself or through its parent. */
  readOnly: boolean;
}

function flatten(schema: ScimSchema | undefined, attributes: readonly ScimAttribute[]): Entry[] {
  const urn = schema && schema.id !== CORE && schema.id !== GROUP_SCHEMA.id ? schema.id : undefined;
  const prefix = urn ? `${urn}:` : '';
  return attributes.flatMap((attr) => {
    const top: Entry = {
      path: `${prefix}${attr.name}`,
      attr,
      ...(urn ? { urn } : {}),
      readOnly: attr.mutability === 'readOnly',
    };
    const subs = (attr.subAttributes ?? []).map((sub): Entry => ({
      path: `${prefix}${attr.name}.${sub.name}`,
      attr: sub,
      parent: attr,
      ...(urn ? { urn } : {}),
      readOnly: top.readOnly || sub.mutability === 'readOnly',
    }));
    return [top, ...subs];
  });
}

const USER_ENTRIES: Entry[] = [
  ...flatten(USER_SCHEMA, USER_SCHEMA.attributes),
  ...flatten(ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA.attributes),
  ...flatten(LOOPIT_USER_SCHEMA, LOOPIT_USER_SCHEMA.attributes),
  ...flatten(undefined, COMMON_ATTRIBUTES),
];
const GROUP_ENTRIES: Entry[] = flatten(GROUP_SCHEMA, GROUP_SCHEMA.attributes);

const topOf = (e: Entry): ScimAttribute => e.parent ?? e.attr;
const isWritable = (a: ScimAttribute) => a.mutability === 'readWrite' || a.mutability === 'writeOnly';
const returned = (e: Entry) => e.attr.returned !== 'never' && (e.parent?.returned ?? 'default') !== 'never';

// ---------------------------------------------------------------------------------------------------
// Exceptions: attributes whose documented behaviour is not the generic one, each citing the model.

type Op = 'post' | 'put' | 'add' | 'replace' | 'remove';
interface Exception {
  /** The model's description that says so. */
  why: string;
  /** Generated values (k picks a variant, tag makes them unique to a user). */
  value?: (k: number, tag: string) => unknown;
  /** What GET shows after `op` sent `sent`, given what the generic rule expects and the user's userName. */
  shown?: (op: Op, sent: unknown, generic: unknown, userName: string) => unknown;
  /** Filters and PATCH value filters may find both users (the value cannot differ between them). */
  sameForAll?: boolean;
  /** The body of a PUT that changes the attribute in the resource read back. */
  putBody?: (body: Json) => Json;
  /** Not a case of the generic generator: tested by the named cases instead. */
  covered?: string;
}

const chosenRole = (sent: unknown): string => {
  const list = (Array.isArray(sent) ? sent : [sent]) as Json[];
  return (list.find((r) => r.primary === true) ?? list[list.length - 1])!.value as string;
};

const EXCEPTIONS: Record<string, Exception> = {
  userName: {
    why: 'userName: "usually an e-mail address; unique ignoring case" (unique, and an e-mail so that emails fall back to it)',
    value: (k, tag) => `${tag}.${k}@example.com`,
  },
  externalId: {
    why: 'externalId: "unique per workspace when set"',
    value: (k, tag) => `ext-${tag}-${k}`,
  },
  displayName: {
    why: 'displayName: "when no name at all is sent, the userName" (the generated users have no name)',
    shown: (op, _sent, generic, userName) => (op === 'remove' ? userName : generic),
  },
  emails: {
    why: 'emails: "the primary one (else the first, else a userName that is an e-mail) is the Loopit e-mail": with none, GET shows the userName as the primary work e-mail',
    shown: (op, _sent, generic, userName) =>
      present(generic) ? generic : [{ value: userName, type: 'work', primary: true }],
  },
  'emails.value': {
    why: 'emails: "E-mail addresses"',
    value: (k, tag) => `${tag}.mail${k}@example.com`,
  },
  roles: {
    why: 'roles: "one value ... returned as [{ "value": <name>, "primary": true }]. add and replace set it (the element sent as primary, else the last one sent); remove gives the default role"',
    shown: (op, sent) => [{ value: op === 'remove' ? DEFAULT_ROLE : chosenRole(sent), primary: true }],
    // "The urn:...:loopit:2.0:User role wins when both are sent": a PUT of what was read back, roles
    // changed, leaves the extension's role out so that roles decides.
    putBody: (body) => ({ ...body, [LOOPIT]: { ...(body[LOOPIT] as Json), role: undefined } }),
    sameForAll: true,
  },
  'roles.value': {
    why: 'roles.value: "The name of a role of the workspace"',
    value: (k) => ROLES[1 + (k % 2)],
  },
  'roles.display': {
    why: 'roles.display: "(not stored)"; roles: "returned as [{ value, primary: true }]"',
    shown: (_op, _sent, generic) => strip(generic, 'display'),
  },
  'roles.type': {
    why: 'roles.type: "(not stored)"; roles: "returned as [{ value, primary: true }]"',
    shown: (_op, _sent, generic) => strip(generic, 'type'),
  },
  'roles.primary': {
    why: 'roles: "one value ... returned as [{ "value": <name>, "primary": true }]"',
    shown: (_op, _sent, generic) =>
      (generic as Json[] | undefined)?.map((r) => ({ ...r, primary: true })) ?? generic,
    sameForAll: true,
  },
  [`${LOOPIT}:role`]: {
    why: 'role: "The name of a role of the workspace ... Not sent: unchanged (on create: the default role). Returned: the effective role"',
    value: (k) => ROLES[1 + (k % 2)],
    shown: (op, _sent, generic) => (op === 'remove' ? DEFAULT_ROLE : generic),
  },
  [`${LOOPIT}:location`]: {
    why: 'location: "The name of a location of the workspace ... A name the workspace lacks is created"',
    value: (k) => LOCATIONS[k % LOCATIONS.length],
  },
  schemas: {
    why: 'schemas: "The schemas of the resource": the body\'s own list, checked for the core URN, not an attribute a client sets or that POST ignores',
    covered: 'the readOnly PATCH case and every POST of this file',
  },
  'members.value': {
    why: 'members.value: "The id of the user" (immutable: a member is added or removed, never changed)',
    covered: 'the Group members cases',
  },
  'members.$ref': {
    why: 'members.$ref: "The URI of the user" (immutable)',
    covered: 'the Group members cases',
  },
  'members.type': {
    why: 'members.type: "User (the only type of member)"',
    covered: 'the Group members cases',
  },
  'members.display': {
    why: 'members.display: "The user\'s display name, else userName" (readOnly)',
    covered: 'the Group members cases',
  },
};

// ---------------------------------------------------------------------------------------------------
// The generator.

class Unsupported extends Error {}

/** A generated value for an attribute; each (k, tag) gives another, ordered by tag then k. */
function gen(e: Entry | undefined, a: ScimAttribute, path: string, k: number, tag: string): unknown {
  const special = EXCEPTIONS[path]?.value;
  if (special) return special(k, tag);
  if (a.multiValued) {
    if (a.type !== 'complex') throw new Unsupported(`${path}: multi-valued ${a.type}`);
    return [element(a, path, k, tag)];
  }
  if (a.type === 'complex') {
    return Object.fromEntries(
      (a.subAttributes ?? [])
        .filter((s) => s.mutability !== 'readOnly')
        .map((s) => [s.name, gen(e, s, `${path}.${s.name}`, k, tag)]),
    );
  }
  if (a.canonicalValues?.length) return a.canonicalValues[k % a.canonicalValues.length];
  switch (a.type) {
    case 'string':
      return `${a.name}-${tag}-${k}`;
    case 'reference':
      return `https://example.com/${tag}/${a.name}/${k}`;
    case 'boolean':
      return k % 2 === 0;
    case 'dateTime':
      return `200${k % 10}-02-03T04:05:06.000Z`;
    default:
      throw new Unsupported(`${path}: type ${a.type}`);
  }
}

/** One element of a multi-valued complex attribute (writable sub-attributes; primary when k is even). */
function element(a: ScimAttribute, path: string, k: number, tag: string): Json {
  return Object.fromEntries(
    (a.subAttributes ?? [])
      .filter((s) => s.mutability !== 'readOnly')
      .map((s) => [s.name, gen(undefined, s, `${path}.${s.name}`, k, tag)]),
  );
}

/** The value of an entry's top-level attribute, generated. */
const topValue = (e: Entry, k: number, tag: string): unknown =>
  gen(e, topOf(e), e.parent ? e.path.slice(0, e.path.lastIndexOf('.')) : e.path, k, tag);

/** The path of an entry's top-level attribute. */
const topPath = (e: Entry): string => (e.parent ? e.path.slice(0, e.path.lastIndexOf('.')) : e.path);

// ---------------------------------------------------------------------------------------------------
// Reading and writing resources at a path.

const present = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
/** RFC 7643 §2.5: unassigned, null, an empty list (and an empty complex value) are the same state. */
const norm = (v: unknown): unknown => (present(v) ? v : undefined);
const strip = (v: unknown, key: string): unknown =>
  Array.isArray(v) ? v.map((x: Json) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== key))) : v;

/** The top-level attribute's value in a resource. */
function readTop(resource: Json, e: Entry): unknown {
  const holder = e.urn ? (resource[e.urn] as Json | undefined) : resource;
  return holder?.[topOf(e).name];
}

/** A copy of a resource with the top-level attribute set (undefined: removed). */
function withTop(resource: Json, e: Entry, value: unknown): Json {
  const out = structuredClone(resource);
  const holder: Json = e.urn ? (out[e.urn] ??= {}) : out;
  if (value === undefined) delete holder[topOf(e).name];
  else holder[topOf(e).name] = value;
  if (e.urn && Array.isArray(out.schemas) && !(out.schemas as string[]).includes(e.urn))
    out.schemas = [...(out.schemas as string[]), e.urn];
  return out;
}

/** The value of an entry (a sub-attribute of a multi-valued one: the list of its elements' values). */
function readEntry(resource: Json, e: Entry): unknown {
  const top = readTop(resource, e);
  if (!e.parent) return top;
  if (Array.isArray(top)) return top.map((x: Json) => x[e.attr.name]);
  return (top as Json | undefined)?.[e.attr.name];
}

/** What GET shows for the top-level attribute after `op` left `generic` there (exceptions applied). */
function shown(e: Entry, op: Op, sent: unknown, generic: unknown, userName: string): unknown {
  if (!returned(e)) return undefined;
  let out = norm(generic);
  // A sub-attribute's remove leaves its parent in place: for the parent's rule it is a replace.
  const parentOp: Op = e.parent && op === 'remove' ? 'replace' : op;
  const top = EXCEPTIONS[topPath(e)]?.shown;
  if (top) out = norm(top(parentOp, e.parent ? out : sent, out, userName));
  const own = e.parent ? EXCEPTIONS[e.path]?.shown : undefined;
  if (own) out = norm(own(op, sent, out, userName));
  // Sub-attribute exceptions hold for every write of the parent too (roles.display is never stored).
  if (!e.parent) {
    for (const sub of topOf(e).subAttributes ?? []) {
      const rule = EXCEPTIONS[`${e.path}.${sub.name}`]?.shown;
      if (rule) out = norm(rule(op, sent, out, userName));
    }
  }
  return out;
}

let serial = 0;
const nextTag = (name: string) =>
  `${name
    .split(':')
    .pop()!
    .replace(/[^a-z]/gi, '')
    .toLowerCase()
    .slice(0, 30)}${(serial += 1)}`;

/** A user with only a userName (an e-mail); the body is returned too. */
async function createUser(tag: string, extra: (body: Json) => Json = (b) => b): Promise<Json> {
  const body = extra({ schemas: [CORE], userName: `${tag}@example.com` });
  const res = await scim('POST', '/Users', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json;
}
const getUser = async (id: string): Promise<Json> => {
  const res = await scim('GET', `/Users/${id}`);
  expect(res.status).toBe(200);
  return res.body as Json;
};

// ---------------------------------------------------------------------------------------------------
// The plan: which generated cases each entry gets.

type Kind = 'top' | 'sub' | 'multiSub' | 'readOnly' | 'covered';
function kindOf(e: Entry): Kind {
  const exception = EXCEPTIONS[e.path];
  if (exception?.covered) return 'covered';
  if (e.readOnly) return 'readOnly';
  if (!isWritable(e.attr)) throw new Unsupported(`${e.path}: mutability ${e.attr.mutability}`);
  // Every writable entry must be generable: a value, and a different one.
  gen(e, e.attr, e.path, 0, 'guard');
  topValue(e, 1, 'guard');
  if (!e.parent) return 'top';
  return e.parent.multiValued ? 'multiSub' : 'sub';
}

const userEntries = (kind: Kind) =>
  USER_ENTRIES.filter((e) => {
    try {
      return kindOf(e) === kind;
    } catch {
      return false;
    }
  });

describe('the model and /Schemas', () => {
  it('GET /Schemas serves exactly the model, internal notes left out', async () => {
    const res = await scim('GET', '/Schemas');
    expect(res.status).toBe(200);
    const resources = res.body.Resources as Json[];
    expect(resources.map((s) => s.id)).toEqual(SCHEMAS.map((s) => s.id));
    resources.forEach((s, i) => {
      const model = SCHEMAS[i]!;
      expect({ id: s.id, name: s.name, description: s.description, attributes: s.attributes }).toEqual({
        id: model.id,
        name: model.name,
        description: model.description,
        attributes: model.attributes.map(served),
      });
      expect(JSON.stringify(s.attributes)).not.toMatch(/"(storage|sortable|discarded)"/);
    });
  });

  it('every attribute path is generated or listed in EXCEPTIONS with its reason', () => {
    const problems: string[] = [];
    for (const e of [...USER_ENTRIES, ...GROUP_ENTRIES]) {
      try {
        kindOf(e);
      } catch (error) {
        if (!(error instanceof Unsupported)) throw error;
        problems.push(`${error.message}: generate it, or list it in EXCEPTIONS citing the model`);
      }
    }
    const paths = new Set([...USER_ENTRIES, ...GROUP_ENTRIES].map((e) => e.path));
    for (const path of Object.keys(EXCEPTIONS))
      if (!paths.has(path)) problems.push(`${path}: stale exception`);
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// readWrite top-level attributes: POST, PUT, PATCH add / replace / path-less replace / remove.

describe.each(userEntries('top').map((e) => [e.path, e] as const))('User %s (readWrite)', (_path, e) => {
  const a = e.attr;
  const tag = nextTag(a.name);
  let user: Json;
  let userName: string;
  /** Values sent by the steps, in order; each step expects its own. */
  const v = (k: number) => gen(e, a, e.path, k, tag);

  const expectShown = async (op: Op, sent: unknown, generic: unknown) => {
    user = await getUser(user.id as string);
    userName = user.userName as string;
    expect(norm(readTop(user, e))).toEqual(shown(e, op, sent, generic, userName));
  };

  it('POST carrying it: GET reads it back', async () => {
    const sent = v(0);
    const created = await createUser(tag, (body) => withTop(body, e, sent));
    user = created;
    userName = created.userName as string;
    if (a.name === 'userName') expect(created.userName).toBe(sent);
    await expectShown('post', sent, sent);
    if (!returned(e)) expect(JSON.stringify(created)).not.toContain(`"${a.name}"`);
  });

  it('PUT with it changed: GET reads the change back', async () => {
    const sent = v(1);
    const body = withTop(user, e, sent);
    const res = await scim('PUT', `/Users/${user.id as string}`, EXCEPTIONS[e.path]?.putBody?.(body) ?? body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectShown('put', sent, sent);
  });

  it('PATCH add with a path: GET reads it back', async () => {
    const before = readTop(user, e);
    const sent = a.multiValued ? [element(a, e.path, 3, tag)] : v(2);
    const res = await patch('Users', user.id as string, { op: 'add', path: e.path, value: sent });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const generic = a.multiValued
      ? [...((before as unknown[] | undefined) ?? []), ...(sent as unknown[])]
      : a.type === 'complex'
        ? { ...(before as Json | undefined), ...(sent as Json) }
        : sent;
    await expectShown('add', sent, returned(e) ? generic : undefined);
  });

  it('PATCH replace with a path: GET reads it back', async () => {
    const sent = v(4);
    const res = await patch('Users', user.id as string, { op: 'replace', path: e.path, value: sent });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectShown('replace', sent, sent);
  });

  it('PATCH path-less replace: GET reads it back', async () => {
    const sent = v(5);
    const res = await patch('Users', user.id as string, { op: 'replace', value: { [e.path]: sent } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectShown('replace', sent, sent);
  });

  if (a.multiValued) {
    it('PATCH remove of one element by a value filter: GET reads the rest back', async () => {
      const keep = element(a, e.path, 7, tag);
      const drop = element(a, e.path, 8, tag);
      const res0 = await patch('Users', user.id as string, {
        op: 'replace',
        path: e.path,
        value: [keep, drop],
      });
      expect(res0.status, JSON.stringify(res0.body)).toBe(200);
      const selector = selectorOf(a, undefined);
      const res = await patch('Users', user.id as string, {
        op: 'remove',
        path: `${e.path}[${selector} eq ${literal(drop[selector])}]`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await expectShown('remove', [keep], [keep]);
    });
  }

  if (a.required || a.removable === false) {
    it('PATCH remove is 400 mutability (required, or not removable) and changes nothing', async () => {
      const before = await getUser(user.id as string);
      const res = await patch('Users', user.id as string, { op: 'remove', path: e.path });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('mutability');
      expect(await getUser(user.id as string)).toEqual(before);
    });
  } else {
    it('PATCH remove with a path: GET no longer shows it', async () => {
      const res = await patch('Users', user.id as string, { op: 'remove', path: e.path });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await expectShown('remove', undefined, undefined);
    });
  }

  it('PATCH replace with a value of the wrong type is 400 invalidValue', async () => {
    const before = await getUser(user.id as string);
    const res = await patch('Users', user.id as string, { op: 'replace', path: e.path, value: wrongType(a) });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(await getUser(user.id as string)).toEqual(before);
  });
});

/** The sub-attribute that picks elements in a value filter: a stored one other than the one patched. */
function selectorOf(a: ScimAttribute, patched: string | undefined): string {
  const stored = (a.subAttributes ?? []).filter((s) => s.storage && s.name !== patched);
  const pick =
    ['type', 'value', 'primary'].map((n) => stored.find((s) => s.name === n)).find(Boolean) ??
    stored.find((s) => s.type === 'string');
  if (!pick) throw new Unsupported(`${a.name}: no sub-attribute to filter its elements by`);
  return pick.name;
}
const literal = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A value of another type than the attribute's. */
function wrongType(a: ScimAttribute): unknown {
  return a.type === 'boolean' ? 'maybe' : 42;
}

// ---------------------------------------------------------------------------------------------------
// Sub-attributes of single-valued complex attributes: PATCH by `attr.sub` path and path-less.

describe.each(userEntries('sub').map((e) => [e.path, e] as const))('User %s (readWrite)', (_path, e) => {
  const tag = nextTag(e.path);
  let user: Json;
  const v = (k: number) => gen(e, e.attr, e.path, k, tag);

  const expectSub = async (op: Op, value: unknown) => {
    const before = readTop(user, e) as Json | undefined;
    user = await getUser(user.id as string);
    const generic = { ...before };
    if (value === undefined) delete generic[e.attr.name];
    else generic[e.attr.name] = value;
    expect(norm(readTop(user, e))).toEqual(shown(e, op, value, generic, user.userName as string));
  };

  beforeAll(async () => {
    user = await createUser(tag, (body) => withTop(body, e, topValue(e, 0, tag)));
  });

  it.each(['add', 'replace'] as const)('PATCH %s with the path: GET reads the parent back', async (op) => {
    const sent = v(op === 'add' ? 1 : 2);
    const res = await patch('Users', user.id as string, { op, path: e.path, value: sent });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectSub(op, sent);
  });

  it('PATCH path-less replace keyed by the path: GET reads it back', async () => {
    const sent = v(3);
    const res = await patch('Users', user.id as string, { op: 'replace', value: { [e.path]: sent } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectSub('replace', sent);
  });

  it('PATCH remove with the path: GET no longer shows it, the siblings stay', async () => {
    const res = await patch('Users', user.id as string, { op: 'remove', path: e.path });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectSub('remove', undefined);
  });

  it('POST with it of the wrong type is 400 invalidValue', async () => {
    const t = nextTag(e.path);
    const body = withTop({ schemas: [CORE], userName: `${t}@example.com` }, e, {
      ...(topValue(e, 0, t) as Json),
      [e.attr.name]: wrongType(e.attr),
    });
    const res = await scim('POST', '/Users', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });
});

// ---------------------------------------------------------------------------------------------------
// Sub-attributes of multi-valued attributes: PATCH through a value filter (`emails[type eq "work"].value`).

describe.each(userEntries('multiSub').map((e) => [e.path, e] as const))('User %s (readWrite)', (_path, e) => {
  const parent = e.parent!;
  const tag = nextTag(e.path);
  let user: Json;
  const selector = selectorOf(parent, e.attr.name);

  /** The element the filter picks is the first; the second must be left alone. */
  const expectElement = async (op: Op, value: unknown) => {
    const before = readTop(user, e) as Json[];
    user = await getUser(user.id as string);
    const generic = before.map((x, i) => {
      if (i !== 0) return x;
      const out = { ...x };
      if (value === undefined) delete out[e.attr.name];
      else out[e.attr.name] = value;
      return out;
    });
    expect(norm(readTop(user, e))).toEqual(shown(e, op, generic, generic, user.userName as string));
  };

  beforeAll(async () => {
    // Two elements: one the filter picks (generated with k = 0), one it must leave alone (k = 1).
    const pair = [element(parent, topPath(e), 0, tag), element(parent, topPath(e), 1, tag)];
    user = await createUser(tag, (body) => withTop(body, e, pair));
  });

  const filtered = () => {
    const first = (readTop(user, e) as Json[])[0]!;
    return `${topPath(e)}[${selector} eq ${literal(first[selector])}].${e.attr.name}`;
  };

  it.each(['replace', 'add'] as const)(
    `PATCH %s of ${topPath(e)}[...].${e.attr.name}: GET reads it back`,
    async (op) => {
      const current = (readTop(user, e) as Json[])[0]![e.attr.name];
      const sent =
        e.attr.type === 'boolean' ? !current : gen(e, e.attr, e.path, op === 'replace' ? 2 : 3, tag);
      const res = await patch('Users', user.id as string, { op, path: filtered(), value: sent });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await expectElement(op, sent);
    },
  );

  if (e.attr.name !== 'value') {
    it(`PATCH remove of ${topPath(e)}[...].${e.attr.name}: GET shows the element without it`, async () => {
      const res = await patch('Users', user.id as string, { op: 'remove', path: filtered() });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await expectElement('remove', undefined);
    });
  }

  it('POST with it of the wrong type is 400 invalidValue', async () => {
    const t = nextTag(e.path);
    const body = withTop({ schemas: [CORE], userName: `${t}@example.com` }, e, [
      { ...element(parent, topPath(e), 0, t), [e.attr.name]: wrongType(e.attr) },
    ]);
    const res = await scim('POST', '/Users', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });
});

// ---------------------------------------------------------------------------------------------------
// readOnly attributes: PATCH is 400 mutability; POST and PUT carrying them ignore them.

describe.each(userEntries('readOnly').map((e) => [e.path, e] as const))('User %s (readOnly)', (_path, e) => {
  const tag = nextTag(e.path);
  const bogus = (): unknown => {
    if (e.parent) {
      const sub = gen(e, e.attr, e.path, 9, tag);
      return e.parent.multiValued ? [{ [e.attr.name]: sub }] : { [e.attr.name]: sub };
    }
    if (e.attr.name === 'id') return '00000000-0000-4000-8000-000000000000';
    return gen(e, e.attr, e.path, 9, tag);
  };
  /** The read-only value sent, where GET would show it. */
  const sentValue = () => (e.parent ? readEntry(withTop({}, e, bogus()), e) : bogus());

  it('PATCH replace of it is 400 mutability and changes nothing', async () => {
    const user = await createUser(nextTag(e.path));
    const value = e.parent ? gen(e, e.attr, e.path, 9, tag) : bogus();
    const path = e.parent?.multiValued ? `${topPath(e)}.${e.attr.name}` : e.path;
    const res = await patch('Users', user.id as string, { op: 'replace', path, value });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.scimType).toBe('mutability');
    expect(await getUser(user.id as string)).toEqual(user);
  });

  it('POST and PUT carrying it ignore it', async () => {
    const created = await createUser(nextTag(e.path), (body) => withTop(body, e, bogus()));
    const read = await getUser(created.id as string);
    expect(readEntry(read, e)).not.toEqual(sentValue());
    const res = await scim('PUT', `/Users/${read.id as string}`, withTop(read, e, bogus()));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await getUser(read.id as string);
    expect(readEntry(after, e)).toEqual(readEntry(read, e));
  });
});

// ---------------------------------------------------------------------------------------------------
// Unknown attributes and wrong types in a POST.

describe('POST of what the model does not declare, or of the wrong type', () => {
  const schemas = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, LOOPIT_USER_SCHEMA];
  it.each(schemas.map((s) => [s.name, s] as const))(
    'an unknown attribute of %s is 400 invalidValue',
    async (_n, s) => {
      const t = nextTag('unknown');
      const unknown = s.id === CORE ? { favouriteColour: 'blue' } : { [s.id]: { favouriteColour: 'blue' } };
      const res = await scim('POST', '/Users', { schemas: [CORE], userName: `${t}@example.com`, ...unknown });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      const found = await scim('GET', `/Users?filter=${q(`userName eq "${t}@example.com"`)}`);
      expect(found.body.totalResults).toBe(0);
    },
  );

  const complex = userEntries('top').filter((e) => e.attr.type === 'complex');
  it.each(complex.map((e) => [e.path, e] as const))(
    'an unknown sub-attribute of %s is 400 invalidValue',
    async (_p, e) => {
      const t = nextTag('unknownsub');
      const value = e.attr.multiValued ? [{ favouriteColour: 'blue' }] : { favouriteColour: 'blue' };
      const res = await scim(
        'POST',
        '/Users',
        withTop({ schemas: [CORE], userName: `${t}@example.com` }, e, value),
      );
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
    },
  );

  it.each(userEntries('top').map((e) => [e.path, e] as const))(
    '%s of the wrong type is 400 invalidValue, nothing created',
    async (_p, e) => {
      const t = nextTag('wrongtype');
      const userName = `${t}@example.com`;
      const res = await scim('POST', '/Users', withTop({ schemas: [CORE], userName }, e, wrongType(e.attr)));
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      const found = await scim('GET', `/Users?filter=${q(`userName eq "${userName}"`)}`);
      expect(found.body.totalResults).toBe(0);
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// Filters, sorting and projection on two users with every writable attribute set, apart.

describe('filters, sorting and projection', () => {
  /** a and b carry every writable attribute, with values that differ; c only a userName. */
  let a: Json;
  let b: Json;
  let c: Json;
  const full = (tag: string, k: number) => (body: Json) =>
    userEntries('top').reduce((out, e) => withTop(out, e, gen(e, e.attr, e.path, k, tag)), body);

  beforeAll(async () => {
    const ta = nextTag('a');
    const tb = nextTag('b');
    a = await createUser(ta, full(ta, 0));
    await new Promise((resolve) => setTimeout(resolve, 5));
    b = await createUser(tb, full(tb, 1));
    c = await createUser(nextTag('c'));
    // Read back once: nothing below changes them.
    [a, b, c] = [await getUser(a.id as string), await getUser(b.id as string), await getUser(c.id as string)];
  });

  it('a POST of every writable attribute reads back as sent (what the model generates)', async () => {
    const tag = nextTag('all');
    const created = await createUser(tag, full(tag, 0));
    const read = await getUser(created.id as string);
    for (const e of userEntries('top')) {
      const sent = gen(e, e.attr, e.path, 0, tag);
      expect(norm(readTop(read, e)), e.path).toEqual(shown(e, 'post', sent, sent, read.userName as string));
    }
  });

  const idScope = (...users: Json[]) => users.map((u) => `id eq "${u.id as string}"`).join(' or ');

  /** Whether a user's read-back value satisfies `<entry> <op> <value>`, as the model's caseExact says. */
  function satisfies(user: Json, e: Entry, op: 'eq' | 'le' | 'pr', value: unknown): boolean {
    const raw = readEntry(user, e);
    const values = (Array.isArray(raw) ? raw : [raw]).filter((x) => x !== undefined && x !== null);
    const fold = (x: unknown) => (typeof x === 'string' && !e.attr.caseExact ? x.toLowerCase() : x);
    if (op === 'pr') return values.some((x) => present(x));
    if (op === 'le') return values.some((x) => (x as string) <= (value as string));
    return values.some((x) => fold(x) === fold(value));
  }

  const stored = USER_ENTRIES.filter((e) => e.attr.storage);
  it.each(stored.map((e) => [e.path, e] as const))(
    'filter on %s finds the user and not another',
    async (_p, e) => {
      const ra = a;
      const rb = b;
      const raw = readEntry(ra, e);
      const va = Array.isArray(raw) ? raw[0] : raw;
      let expr: string;
      let op: 'eq' | 'le' = 'eq';
      if (!present(va)) {
        // Nothing the generator can set (read-only): whoever has it.
        const want = [ra, rb].filter((u) => satisfies(u, e, 'pr', undefined)).map((u) => u.id);
        const res = await scim('GET', `/Users?filter=${q(`(${e.path} pr) and (${idScope(ra, rb)})`)}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.Resources.map((r: Json) => r.id)).toEqual(want);
        return;
      }
      if (e.attr.type === 'dateTime') {
        op = 'le';
        expr = `${e.path} le ${literal(va)}`;
      } else if (e.attr.multiValued) {
        const sel = selectorOf(e.attr, undefined);
        const first = (readTop(ra, e) as Json[])[0]!;
        expr = `${e.path}[${sel} eq ${literal(first[sel])}]`;
        const sub = USER_ENTRIES.find((x) => x.path === `${e.path}.${sel}`)!;
        const want = [ra, rb].filter((u) => satisfies(u, sub, 'eq', first[sel])).map((u) => u.id);
        const res = await scim('GET', `/Users?filter=${q(`(${expr}) and (${idScope(ra, rb)})`)}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.Resources.map((r: Json) => r.id)).toEqual(want);
        expect(want).toContain(ra.id);
        return;
      } else if (e.parent?.multiValued) {
        expr = `${topPath(e)}[${e.attr.name} eq ${literal(va)}]`;
      } else {
        expr = `${e.path} eq ${literal(va)}`;
      }
      const want = [ra, rb].filter((u) => satisfies(u, e, op, va)).map((u) => u.id);
      expect(want, `${e.path}: the generated users must differ`).toContain(ra.id);
      if (!EXCEPTIONS[e.path]?.sameForAll && !EXCEPTIONS[topPath(e)]?.sameForAll)
        expect(want).toEqual([ra.id]);
      const res = await scim('GET', `/Users?filter=${q(`(${expr}) and (${idScope(ra, rb)})`)}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.Resources.map((r: Json) => r.id)).toEqual(want);
    },
  );

  const presentable = stored.filter((e) => !e.attr.multiValued && e.attr.type !== 'boolean');
  it.each(presentable.map((e) => [e.path, e] as const))('filter %s pr finds who has it', async (_p, e) => {
    const users = [a, c];
    const want = users.filter((u) => satisfies(u, e, 'pr', undefined)).map((u) => u.id);
    const res = await scim('GET', `/Users?filter=${q(`(${e.path} pr) and (${idScope(...users)})`)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.Resources.map((r: Json) => r.id)).toEqual(want);
  });

  const unstored = USER_ENTRIES.filter((e) => !e.attr.storage);
  it.each(unstored.map((e) => [e.path, e] as const))(
    'filter on %s (not stored) is 400 invalidFilter',
    async (_p, e) => {
      const res = await scim('GET', `/Users?filter=${q(`${e.path} pr`)}`);
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    },
  );

  /** The order SQL gives: values ignoring case unless caseExact, missing ones last, then by id. */
  function order(users: Json[], e: Entry, descending: boolean): string[] {
    const key = (u: Json): unknown => {
      const v = readEntry(u, e);
      return typeof v === 'string' && !e.attr.caseExact ? v.toLowerCase() : v;
    };
    const cmp = (x: unknown, y: unknown) => (x === y ? 0 : (x as string) < (y as string) ? -1 : 1);
    return [...users]
      .sort((x, y) => {
        const [kx, ky] = [key(x), key(y)];
        if (kx === undefined || ky === undefined) {
          if (kx !== ky) return kx === undefined ? 1 : -1;
        } else if (kx !== ky) return descending ? cmp(ky, kx) : cmp(kx, ky);
        return descending ? cmp(y.id, x.id) : cmp(x.id, y.id);
      })
      .map((u) => u.id as string);
  }

  const sortable = USER_ENTRIES.filter((e) => e.attr.sortable);
  it.each(sortable.map((e) => [e.path, e] as const))('sortBy=%s orders two users', async (_p, e) => {
    const users = [a, b];
    for (const descending of [false, true]) {
      const res = await scim(
        'GET',
        `/Users?filter=${q(idScope(...users))}&sortBy=${q(e.path)}${descending ? '&sortOrder=descending' : ''}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(
        res.body.Resources.map((r: Json) => r.id),
        `descending: ${descending}`,
      ).toEqual(order(users, e, descending));
    }
  });

  /** A resource with its unassigned attributes (empty lists and objects) left out, as RFC 7643 §2.5 allows. */
  const compact = (resource: Json): Json =>
    Object.fromEntries(
      Object.entries(resource)
        .map(([k, v]): [string, unknown] =>
          k.startsWith('urn:') && typeof v === 'object' && v !== null ? [k, compact(v as Json)] : [k, v],
        )
        .filter(([, v]) => present(v)),
    );

  /** The resource holding only what `attributes=<entry>` asks for. */
  function only(resource: Json, e: Entry): Json {
    const out: Json = { id: resource.id, schemas: resource.schemas };
    const top = readTop(resource, e);
    if (!present(top) || !returned(e)) return out;
    let value: unknown = top;
    if (e.parent) {
      value = Array.isArray(top)
        ? top.map((x: Json) => (e.attr.name in x ? { [e.attr.name]: x[e.attr.name] } : {}))
        : e.attr.name in (top as Json)
          ? { [e.attr.name]: (top as Json)[e.attr.name] }
          : undefined;
    }
    if (value === undefined) return out;
    if (e.urn) out[e.urn] = { [topOf(e).name]: value };
    else out[topOf(e).name] = value;
    return out;
  }

  /** The resource without what `excludedAttributes=<entry>` leaves out (id and schemas always stay). */
  function without(resource: Json, e: Entry): Json {
    if (e.attr.returned === 'always') return resource;
    const out = structuredClone(resource);
    const holder = (e.urn ? out[e.urn] : out) as Json | undefined;
    if (!holder) return out;
    const name = topOf(e).name;
    if (!e.parent) delete holder[name];
    else if (Array.isArray(holder[name])) for (const x of holder[name] as Json[]) delete x[e.attr.name];
    else if (holder[name]) delete (holder[name] as Json)[e.attr.name];
    return out;
  }

  const projected = USER_ENTRIES.filter((e) => e.path !== 'schemas');
  it.each(projected.map((e) => [e.path, e] as const))(
    'attributes=%s returns it with id and schemas',
    async (_p, e) => {
      const full = a;
      const res = await scim('GET', `/Users/${a.id as string}?attributes=${q(e.path)}`);
      expect(res.status).toBe(200);
      const { meta, ...rest } = res.body as Json;
      if (e.path.startsWith('meta')) expect(meta).toBeDefined();
      else expect(meta).toBeUndefined();
      const want = only(full, e);
      if (e.path.startsWith('meta')) delete want.meta;
      expect(compact(rest)).toEqual(compact(want));
    },
  );

  it.each(projected.map((e) => [e.path, e] as const))(
    'excludedAttributes=%s leaves it out',
    async (_p, e) => {
      const full = a;
      const res = await scim('GET', `/Users/${a.id as string}?excludedAttributes=${q(e.path)}`);
      expect(res.status).toBe(200);
      expect(compact(res.body as Json)).toEqual(compact(without(full, e)));
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// Group: displayName and externalId as their characteristics say; members added and removed.

describe('Group', () => {
  const strings = GROUP_ENTRIES.filter((e) => !e.parent && e.attr.type === 'string' && isWritable(e.attr));
  const getGroup = async (id: string) => (await scim('GET', `/Groups/${id}`)).body as Json;
  const groupBody = (tag: string, k: number): Json => ({
    schemas: [GROUP_SCHEMA.id],
    ...Object.fromEntries(strings.map((e) => [e.attr.name, gen(e, e.attr, e.path, k, tag)])),
  });
  let g1: Json;
  let g2: Json;

  beforeAll(async () => {
    const t = nextTag('group');
    g1 = (await scim('POST', '/Groups', groupBody(t, 0))).body as Json;
    g2 = (await scim('POST', '/Groups', groupBody(t, 1))).body as Json;
  });

  it('every Group attribute is handled', () => {
    for (const e of GROUP_ENTRIES) {
      const handled = strings.includes(e) || e.path === 'members' || EXCEPTIONS[e.path]?.covered;
      expect(handled, `${e.path}: generate it, or list it in EXCEPTIONS`).toBeTruthy();
    }
  });

  describe.each(strings.map((e) => [e.path, e] as const))('Group %s', (_p, e) => {
    const tag = nextTag(`g${e.path}`);
    it('POST reads it back; PUT and PATCH replace (path and path-less) change it', async () => {
      const created = await scim('POST', '/Groups', groupBody(tag, 0));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      expect((await getGroup(id))[e.attr.name]).toBe(gen(e, e.attr, e.path, 0, tag));
      const put = await scim('PUT', `/Groups/${id}`, {
        ...groupBody(tag, 0),
        [e.attr.name]: gen(e, e.attr, e.path, 1, tag),
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect((await getGroup(id))[e.attr.name]).toBe(gen(e, e.attr, e.path, 1, tag));
      for (const [k, op] of [
        [2, { op: 'replace', path: e.path, value: gen(e, e.attr, e.path, 2, tag) }],
        [3, { op: 'replace', value: { [e.path]: gen(e, e.attr, e.path, 3, tag) } }],
      ] as const) {
        const res = await patch('Groups', id, op);
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
        expect((await getGroup(id))[e.attr.name]).toBe(gen(e, e.attr, e.path, k, tag));
      }
      const removed = await patch('Groups', id, { op: 'remove', path: e.path });
      if (e.attr.required) {
        expect(removed.status).toBe(400);
        expect(removed.body.scimType).toBe('mutability');
        expect((await getGroup(id))[e.attr.name]).toBe(gen(e, e.attr, e.path, 3, tag));
      } else {
        expect(removed.status, JSON.stringify(removed.body)).toBeLessThan(300);
        expect((await getGroup(id))[e.attr.name]).toBeUndefined();
      }
    });

    it('filter eq finds the group and not another; sortBy orders them; attributes projects it', async () => {
      const scope = `id eq "${g1.id as string}" or id eq "${g2.id as string}"`;
      const f = `(${e.path} eq ${literal(g1[e.attr.name])}) and (${scope})`;
      const found = await scim('GET', `/Groups?filter=${q(f)}`);
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.Resources.map((r: Json) => r.id)).toEqual([g1.id]);
      if (e.attr.sortable) {
        for (const [order, want] of [
          ['ascending', [g1.id, g2.id]],
          ['descending', [g2.id, g1.id]],
        ] as const) {
          const res = await scim('GET', `/Groups?filter=${q(scope)}&sortBy=${e.path}&sortOrder=${order}`);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          expect(res.body.Resources.map((r: Json) => r.id)).toEqual(want);
        }
      }
      const projected = await scim('GET', `/Groups/${g1.id as string}?attributes=${e.path}`);
      expect(projected.body).toEqual({ id: g1.id, schemas: g1.schemas, [e.attr.name]: g1[e.attr.name] });
      const excluded = await scim('GET', `/Groups/${g1.id as string}?excludedAttributes=${e.path}`);
      expect(excluded.body[e.attr.name]).toBeUndefined();
      expect(excluded.body.id).toBe(g1.id);
    });
  });

  it('members: POST, PATCH add, remove by members[value eq "id"], remove by value list, PUT; filter', async () => {
    const [u1, u2, u3] = [
      await createUser(nextTag('member')),
      await createUser(nextTag('member')),
      await createUser(nextTag('member')),
    ];
    const ids = (g: Json) => ((g.members ?? []) as Json[]).map((m) => m.value as string).sort();
    const t = nextTag('members');
    const created = await scim('POST', '/Groups', { ...groupBody(t, 0), members: [{ value: u1.id }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const group = await getGroup(id);
    expect(ids(group)).toEqual([u1.id]);
    expect(group.members[0]).toMatchObject({ value: u1.id, display: u1.displayName });

    const steps: [unknown, string[]][] = [
      [{ op: 'add', path: 'members', value: [{ value: u2.id }, { value: u3.id }] }, [u1.id, u2.id, u3.id]],
      [{ op: 'remove', path: `members[value eq "${u1.id as string}"]` }, [u2.id, u3.id]],
      [{ op: 'remove', path: 'members', value: [{ value: u2.id }] }, [u3.id]],
      [{ op: 'replace', path: 'members', value: [{ value: u1.id }] }, [u1.id]],
      [{ op: 'remove', path: 'members' }, []],
    ];
    for (const [op, want] of steps) {
      const res = await patch('Groups', id, op);
      expect(res.status, JSON.stringify({ op, body: res.body })).toBeLessThan(300);
      expect(ids(await getGroup(id)), JSON.stringify(op)).toEqual([...want].sort());
    }
    const put = await scim('PUT', `/Groups/${id}`, { ...groupBody(t, 0), members: [{ value: u2.id }] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(ids(await getGroup(id))).toEqual([u2.id]);
    const found = await scim('GET', `/Groups?filter=${q(`members[value eq "${u2.id as string}"]`)}`);
    expect(found.body.Resources.map((r: Json) => r.id)).toEqual([id]);
    // The member's groups (readOnly on the user) show it.
    expect(((await getUser(u2.id as string)).groups as Json[]).map((x) => x.value)).toEqual([id]);
  });
});
