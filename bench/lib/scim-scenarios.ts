import type { ScenarioName } from './scim-args.js';

/** The load scenarios run by wrk: what they request, as a label for the report and as Lua. */
export interface LoadScenario {
  name: Exclude<ScenarioName, 'bulk'>;
  label: string;
  lua: (users: number, extra: { groupId?: string }) => string;
}

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// The seeded users are the rows of bench/lib/csv.ts: userName = e-mail = user<i>@bench.example.com.
const READ_IDS = String.raw`
local ids = {}
function prepare(file)
  for line in io.lines(file) do ids[#ids + 1] = line end
  if #ids == 0 then error("no ids in " .. file) end
end`;

export const LOAD_SCENARIOS: LoadScenario[] = [
  {
    name: 'filter',
    label: 'GET /Users?filter=userName eq "…" (random seeded user)',
    lua: (users) => String.raw`
function request()
  local i = math.random(1, ${users})
  return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22user" .. i .. "%40bench.example.com%22")
end
-- A filter must find its user: a 200 with no match would measure an empty answer.
function check(body) return string.find(body, '"totalResults":1[,}]') ~= nil end`,
  },
  {
    name: 'get',
    label: 'GET /Users/{id} (random seeded user)',
    lua: () => String.raw`${READ_IDS}
function request()
  return wrk.format("GET", "/scim/v2/Users/" .. ids[math.random(#ids)])
end`,
  },
  {
    name: 'patch',
    label: 'PATCH /Users/{id} replace `title` (random seeded user)',
    lua: () => String.raw`${READ_IDS}
function request()
  local body = '{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"Title ' ..
    math.random(1, 1000000) .. '"}]}'
  return wrk.format("PATCH", "/scim/v2/Users/" .. ids[math.random(#ids)], nil, body)
end`,
  },
  {
    name: 'group-get',
    label: 'GET /Groups/{id}?excludedAttributes=members (a group of every seeded user)',
    lua: (_users, extra) => String.raw`
function request()
  return wrk.format("GET", "/scim/v2/Groups/${extra.groupId ?? 'missing'}?excludedAttributes=members")
end`,
  },
  {
    name: 'group-patch',
    label: 'PATCH /Groups/{id}: remove one random member, add another (a group of every seeded user)',
    lua: (_users, extra) => String.raw`${READ_IDS}
function request()
  local body = '{"schemas":["${PATCH_OP}"],"Operations":[{"op":"remove","path":"members[value eq \\\"' ..
    ids[math.random(#ids)] .. '\\\"]"},{"op":"add","path":"members","value":[{"value":"' ..
    ids[math.random(#ids)] .. '"}]}]}'
  return wrk.format("PATCH", "/scim/v2/Groups/${extra.groupId ?? 'missing'}", nil, body)
end`,
  },
  {
    name: 'post',
    label: 'POST /Users (a new, unique userName each)',
    lua: () => String.raw`
local n = 0
function request()
  n = n + 1
  local u = "scim-" .. tag .. "-" .. tid .. "-" .. n .. "@bench.example.com"
  local body = '{"schemas":["${CORE_USER}"],"userName":"' .. u ..
    '","name":{"givenName":"Grace","familyName":"Hopper"},"emails":[{"value":"' .. u ..
    '","type":"work","primary":true}],"active":true}'
  return wrk.format("POST", "/scim/v2/Users", nil, body)
end`,
  },
];

/** An RFC 7644 §3.7 BulkRequest of `ops` POST /Users operations, each with its bulkId. */
export function bulkRequest(ops: number, tag: string): string {
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: Array.from({ length: ops }, (_, i) => {
      const userName = `bulk-${tag}-${i + 1}@bench.example.com`;
      return {
        method: 'POST',
        path: '/Users',
        bulkId: `u${i + 1}`,
        data: {
          schemas: [CORE_USER],
          userName,
          name: { givenName: 'Ada', familyName: 'Lovelace' },
          emails: [{ value: userName, type: 'work', primary: true }],
          active: true,
        },
      };
    }),
  });
}

/** One timed Bulk request: its HTTP status, the time to the whole response, and the operations' statuses. */
export interface BulkAttempt {
  status: number;
  ms: number;
  /** Operation results by status (RFC 7644 gives "201" as a string; numbers and { code } accepted). */
  opStatuses: Record<string, number>;
  /** The first bytes of a non-200 body. */
  detail: string | undefined;
}

/** Statuses with which a server says it has no Bulk endpoint (yet): the bench reports "not available". */
export const BULK_ABSENT = new Set([404, 405, 501]);

export async function timeBulk(baseUrl: string, token: string, body: string): Promise<BulkAttempt> {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/scim/v2/Bulk`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/scim+json',
      accept: 'application/scim+json',
    },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  const opStatuses: Record<string, number> = {};
  if (res.status !== 200)
    return { status: res.status, ms, opStatuses, detail: text.replace(/\s+/g, ' ').slice(0, 200) };
  let operations: { status?: unknown }[] = [];
  try {
    const parsed = JSON.parse(text) as { Operations?: unknown };
    if (Array.isArray(parsed.Operations)) operations = parsed.Operations as { status?: unknown }[];
  } catch {
    return { status: res.status, ms, opStatuses, detail: `not JSON: ${text.slice(0, 200)}` };
  }
  for (const op of operations) {
    const st =
      typeof op.status === 'object' && op.status !== null && 'code' in op.status ? op.status.code : op.status;
    const code = typeof st === 'string' || typeof st === 'number' ? String(st) : 'none';
    opStatuses[code] = (opStatuses[code] ?? 0) + 1;
  }
  return { status: res.status, ms, opStatuses, detail: undefined };
}
