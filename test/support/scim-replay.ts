import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { call, type Call } from './context.js';

/*
 * Replays what an identity provider sends, request by request, from fixtures/scim/<flow>/NN-*.json
 * (see fixtures/scim/README.md), checking what every SCIM answer must satisfy and then the step's own
 * expectations.
 */

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = /^application\/scim\+json/;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request of a vendor's flow, as stored in fixtures/scim/<flow>/NN-name.json. */
export interface Step {
  method: Method;
  /** Relative to the SCIM base URL; placeholders in it are filled URL-encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  expect: { status: number; headers?: Record<string, string>; body?: Record<string, unknown> };
}

export type Vars = Record<string, string>;

export interface Replay {
  token: string;
  vars: Vars;
  /** After a 201 from this file, the new resource's id is stored under this placeholder name. */
  captures: Record<string, string>;
  /** The last meta.version seen per resource id. */
  versions: Map<string, number>;
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/scim/', import.meta.url));

export function loadFlow(flow: string): { file: string; step: Step }[] {
  const dir = `${FIXTURES}${flow}/`;
  return readdirSync(dir)
    .filter((file) => /^\d{2}-[\w-]+\.json$/.test(file))
    .sort()
    .map((file) => ({ file, step: JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Step }));
}

/** Replaces {{name}} in every string of a fixture value; a placeholder without a value is an error. */
export function fill<T>(value: T, vars: Vars, encode = false): T {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new Error(`no value for {{${name}}}`);
      return encode ? encodeURIComponent(v) : v;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => fill(v, vars, encode)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars, encode)])) as T;
  }
  return value;
}

const lowerKeys = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

const versionNumber = (etag: string): number => Number(/^W\/"(\d+)"$/.exec(etag)?.[1] ?? NaN);

const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);

/** A sender for one app and SCIM base URL: sends a fixture request and checks the answer. */
export function replaySender(app: () => FastifyInstance, base: string) {
  return async function send(replay: Replay, file: string, step: Step): Promise<Call> {
    const { vars, versions } = replay;
    const path = fill(step.path, vars, true);
    const res = await call(app(), step.method, `/scim/v2${path}`, {
      token: replay.token,
      headers: lowerKeys(fill(step.headers ?? {}, vars)),
      ...(step.body !== undefined ? { body: fill(step.body, vars) } : {}),
    });
    const where = `${file} (${step.method} ${path}) answered ${res.status} ${JSON.stringify(res.body)}`;
    expect(res.status, where).toBe(step.expect.status);
    const capture = replay.captures[file];
    if (capture && res.status === 201) vars[capture] = res.body.id as string;
    // A full flow's captures (see flowRunner) are taken before the answer is judged, so that one wrong
    // field does not leave the later steps without the ids they need.
    for (const [name, where] of Object.entries((step as FlowStep).capture ?? {})) {
      const value = at(res.body, where);
      expect(value, `${file}: capture ${name} from ${where}`).toEqual(expect.any(String));
      vars[name] = value as string;
    }

    const type = res.body?.meta?.resourceType as string | undefined;
    if (res.status === 204) {
      expect(res.body, where).toBeFalsy();
    } else {
      expect(res.headers['content-type'], where).toMatch(SCIM_JSON);
    }
    if (res.status === 201) {
      expect(res.headers.location, where).toBe(
        `${base}/${type === 'Group' ? 'Groups' : 'Users'}/${res.body.id}`,
      );
      expect(res.body.meta.location, where).toBe(res.headers.location);
    }
    if (res.status >= 400) {
      expect(res.body, where).toMatchObject({ schemas: [ERROR], status: String(res.status) });
      expect(res.body.detail, where).toEqual(expect.any(String));
    }
    if (res.status === 409) expect(res.body.scimType, where).toBe('uniqueness');
    if (res.status < 300 && res.body?.schemas?.includes(LIST)) {
      expect(res.body.itemsPerPage, where).toBe(res.body.Resources.length);
    }
    const version = res.body?.meta?.version as string | undefined;
    const id = res.body?.id as string | undefined;
    if (res.status < 300 && version && id) {
      expect(res.headers.etag, where).toBe(version);
      const n = versionNumber(version);
      const before = versions.get(id);
      if (step.method === 'PUT' || step.method === 'PATCH') {
        // Every fixture write changes something: the same version means a 2xx that did nothing.
        expect(n, `${where}: a new version`).toBeGreaterThan(before ?? 0);
      }
      // A read never goes back; it may move on (a group change sets a member's role, a new version).
      else if (before !== undefined) expect(n, where).toBeGreaterThanOrEqual(before);
      versions.set(id, n);
    }
    const target = /^\/(?:Users|Groups)\/([^/?]+)/.exec(path)?.[1];
    if (res.status === 204 && step.method === 'PATCH' && target) {
      // A PATCH answered without a body still tells the new version in its ETag.
      expect(res.headers.etag, where).toMatch(/^W\/"\d+"$/);
      versions.set(target, versionNumber(res.headers.etag as string));
    }
    if (res.status < 300 && res.body?.id) {
      expect(res.body.schemas, where).toContain(type === 'Group' ? CORE_GROUP : CORE_USER);
      expect(res.body, where).not.toHaveProperty('password');
    }
    for (const [name, value] of Object.entries(fill(step.expect.headers ?? {}, vars))) {
      expect(res.headers[name.toLowerCase()], where).toBe(value);
    }
    if (step.expect.body) expect(res.body, where).toMatchObject(fill(step.expect.body, vars));
    return res;
  };
}

/*
 * Full lifecycle flows (fixtures/scim/<flow>/ with a workspace.json) add to a step what the test checks
 * after it: `capture` takes values from the answer into placeholders, and `after` lists reads (SCIM, or
 * the REST API with an all-scope token) whose answers must match, so a step is judged by the state it
 * leaves, not only by its status code.
 */

/** A read the test makes after a step: `api: "rest"` paths are absolute (`/v1/users/{{id}}`). */
export interface Check {
  api?: 'scim' | 'rest';
  method?: 'GET';
  path: string;
  expect: { status: number; body?: Record<string, unknown> };
}

export interface FlowStep extends Step {
  /** Placeholder name → dotted path into the answer's body (`Resources.0.id`). */
  capture?: Record<string, string>;
  after?: Check[];
}

/** The workspace a full flow expects: roles highest rank first, the default role, locations, settings. */
export interface FlowWorkspace {
  roles: string[];
  defaultRole?: string;
  locations: string[];
  settings?: Record<string, unknown>;
  vars: Vars;
}

export function loadWorkspace(flow: string): FlowWorkspace {
  return JSON.parse(readFileSync(`${FIXTURES}${flow}/workspace.json`, 'utf8')) as FlowWorkspace;
}

/**
 * Sends a full flow's step with `send`, then: a refused PUT or PATCH of a user must leave its version
 * as it was (nothing half-applied), and every `after` read must match.
 */
export function flowRunner(app: () => FastifyInstance, base: string) {
  const send = replaySender(app, base);
  return async function run(replay: Replay, restToken: string, file: string, step: FlowStep): Promise<Call> {
    const res = await send(replay, file, step);
    const path = fill(step.path, replay.vars, true);
    const user = /^\/Users\/([^/?]+)$/.exec(path)?.[1];
    if (res.status >= 400 && user && (step.method === 'PATCH' || step.method === 'PUT')) {
      const reread = await call(app(), 'GET', `/scim/v2/Users/${user}`, { token: replay.token });
      expect(reread.status, `${file}: the user after the refusal`).toBe(200);
      const before = replay.versions.get(user);
      if (before !== undefined) {
        expect(
          versionNumber(reread.body.meta.version as string),
          `${file}: a refused write changed the version`,
        ).toBe(before);
      }
    }
    for (const [i, check] of (step.after ?? []).entries()) {
      const label = `${file} after[${i}]`;
      if (check.api === 'rest') {
        const url = fill(check.path, replay.vars, false);
        const got = await call(app(), check.method ?? 'GET', url, { token: restToken });
        const where = `${label} (GET ${url}) answered ${got.status} ${JSON.stringify(got.body)}`;
        expect(got.status, where).toBe(check.expect.status);
        if (check.expect.body) expect(got.body, where).toMatchObject(fill(check.expect.body, replay.vars));
      } else {
        await send(replay, label, { method: check.method ?? 'GET', path: check.path, expect: check.expect });
      }
    }
    return res;
  };
}
