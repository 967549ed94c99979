import { ScimError } from '../../lib/errors.js';
import type { BulkMethod, BulkOperation, BulkResource } from './types.js';
import { BULK_REQUEST } from '../schema/urns.js';
import { isObject, member as get } from '../schema/json.js';

export interface BulkRequest {
  failOnErrors?: number;
  operations: BulkOperation[];
}

const METHODS: readonly BulkMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
const PATH = /^\/?(users|groups)(?:\/([^/?#\s]+))?\/?$/i;

const syntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
const invalid = (detail: string) => new ScimError(400, 'invalidValue', detail);

function optionalString(obj: Record<string, unknown>, name: string, where: string): string | undefined {
  const value = get(obj, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(`${where}.${name} must be a non-empty string.`);
  return value;
}

function parsePath(raw: unknown, where: string): { resource: BulkResource; id?: string } {
  if (typeof raw !== 'string')
    throw new ScimError(400, 'invalidPath', `${where}.path is required, such as "/Users" or "/Users/{id}".`);
  const m = PATH.exec(raw.trim());
  if (!m)
    throw new ScimError(
      400,
      'invalidPath',
      `${where}.path '${raw}' is not a resource of this service; use "/Users", "/Users/{id}", "/Groups" or "/Groups/{id}".`,
    );
  const resource: BulkResource = m[1]!.toLowerCase() === 'users' ? 'Users' : 'Groups';
  let id = m[2];
  if (id !== undefined) {
    try {
      id = decodeURIComponent(id);
    } catch {
      throw new ScimError(400, 'invalidPath', `${where}.path '${raw}' is not a valid URL path.`);
    }
  }
  return { resource, ...(id !== undefined ? { id } : {}) };
}

function parseOperation(raw: unknown, index: number): BulkOperation {
  const where = `Operations[${index}]`;
  if (!isObject(raw)) throw syntax(`${where} must be an object with method, path and data.`);
  const method = get(raw, 'method');
  const upper = typeof method === 'string' ? method.trim().toUpperCase() : '';
  if (!METHODS.includes(upper as BulkMethod))
    throw invalid(`${where}.method must be POST, PUT, PATCH or DELETE.`);
  const { resource, id } = parsePath(get(raw, 'path'), where);
  const op: BulkOperation = { method: upper as BulkMethod, resource };
  if (upper === 'POST') {
    if (id !== undefined)
      throw new ScimError(400, 'invalidPath', `${where}: POST takes the collection path, "/${resource}".`);
  } else if (id === undefined) {
    throw new ScimError(400, 'invalidPath', `${where}: ${upper} takes a resource path, "/${resource}/{id}".`);
  } else op.id = id;
  const bulkId = optionalString(raw, 'bulkId', where);
  if (bulkId !== undefined) op.bulkId = bulkId;
  else if (upper === 'POST') throw invalid(`${where}.bulkId is required for POST (RFC 7644 §3.7).`);
  const version = optionalString(raw, 'version', where);
  if (version !== undefined) op.version = version;
  if (upper !== 'DELETE') {
    const data = get(raw, 'data');
    if (!isObject(data))
      throw syntax(
        `${where}.data must be an object: the resource for ${upper === 'PATCH' ? 'PATCH, a PatchOp message' : upper}.`,
      );
    op.data = resource === 'Users' ? withoutPasswords(data) : data;
  }
  return op;
}

const PASSWORD = /^(?:urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i;

/**
 * The operation's data without `password` (a User's own attribute, or a PATCH operation on it): it is
 * stored nowhere, so it is not kept in the staged request either while the Bulk runs.
 */
function withoutPasswords(data: Record<string, unknown>): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(data).filter(([k]) => !PASSWORD.test(k)));
  const ops = Object.entries(out).find(([k]) => k.toLowerCase() === 'operations');
  if (ops && Array.isArray(ops[1])) {
    out[ops[0]] = (ops[1] as unknown[])
      .filter(
        (o) =>
          !(isObject(o) && typeof get(o, 'path') === 'string' && PASSWORD.test(get(o, 'path') as string)),
      )
      .map((o: unknown): unknown => {
        const value = isObject(o) ? get(o, 'value') : undefined;
        if (!isObject(o) || !isObject(value)) return o;
        const key = Object.keys(o).find((k) => k.toLowerCase() === 'value')!;
        return { ...o, [key]: withoutPasswords(value) };
      });
  }
  return out;
}

/**
 * Validates a BulkRequest (RFC 7644 §3.7) as a whole before anything is staged: a malformed envelope
 * is refused with 400, too many operations with 413. What only running an operation can tell (its
 * data, its target, its bulkId references) is that operation's own result.
 */
export function parseBulkRequest(body: unknown, maxOperations: number): BulkRequest {
  if (!isObject(body)) throw syntax('The body must be a BulkRequest object.');
  const schemas = get(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s === BULK_REQUEST))
    throw syntax(`schemas must contain "${BULK_REQUEST}".`);
  const operations = get(body, 'Operations');
  if (!Array.isArray(operations)) throw syntax('Operations must be an array of operations.');
  if (operations.length > maxOperations)
    throw new ScimError(
      413,
      undefined,
      `This Bulk request has ${operations.length} operations; maxOperations is ${maxOperations}. Split it into requests of at most ${maxOperations} operations.`,
    );
  const request: BulkRequest = { operations: operations.map(parseOperation) };
  const failOnErrors = get(body, 'failOnErrors');
  if (failOnErrors !== undefined && failOnErrors !== null) {
    if (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)
      throw invalid('failOnErrors must be an integer of at least 1.');
    request.failOnErrors = failOnErrors;
  }
  const seen = new Set<string>();
  request.operations.forEach((op, index) => {
    if (op.bulkId === undefined || op.method !== 'POST') return;
    if (seen.has(op.bulkId))
      throw invalid(
        `Operations[${index}].bulkId '${op.bulkId}' is used by an earlier operation; bulkIds must be unique.`,
      );
    seen.add(op.bulkId);
  });
  return request;
}
