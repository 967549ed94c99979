import type { ScimError } from '../../lib/errors.js';
import { ERROR } from '../schema/urns.js';

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type BulkResource = 'Users' | 'Groups';

/** One validated operation of a BulkRequest, as staged in Postgres. */
export interface BulkOperation {
  method: BulkMethod;
  resource: BulkResource;
  /** The target of PUT, PATCH and DELETE: a resource id or `bulkId:<id>`. */
  id?: string;
  bulkId?: string;
  /** An ETag (`W/"3"`): the operation's If-Match. */
  version?: string;
  data?: unknown;
}

export interface ScimErrorJson {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

/** The outcome of one operation, as stored; `location` is rendered from `resource` and `id` on reading. */
export interface BulkOpResult {
  method: BulkMethod;
  resource: BulkResource;
  bulkId?: string;
  /** The resource written or targeted; also what `bulkId:<id>` references resolve to. */
  id?: string;
  version?: string;
  status: string;
  response?: ScimErrorJson;
}

export const isFailure = (result: BulkOpResult): boolean => Number(result.status) >= 400;

/** What an operation answers when it fails: the SCIM error envelope, as RFC 7644 §3.7.3 shows. */
export function failure(op: BulkOperation, error: ScimError, id?: string): BulkOpResult {
  const response: ScimErrorJson = {
    schemas: [ERROR],
    status: String(error.status),
    ...(error.scimType ? { scimType: error.scimType } : {}),
    detail: error.detail,
  };
  return {
    method: op.method,
    resource: op.resource,
    ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
    ...(id !== undefined ? { id } : {}),
    status: response.status,
    response,
  };
}

/** Context a Bulk operation runs with (the worker's). */
export interface BulkRunContext {
  requestId: string;
  actor: string;
  /** Audit and log source of the writes: scim, as for single requests. */
  source: string;
}
