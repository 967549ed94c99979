/**
 * The API's shapes: the service's own schemas (src/api), read as types only, so nothing of the
 * server reaches the bundle and a field the API adds or renames reaches the app's type check.
 */
import type { ImportStatus } from '../../src/api/imports.js';

export type { Ref } from '../../src/api/common.js';
export type {
  Counts,
  Field,
  Import,
  ImportMode as Mode,
  ImportRow,
  ImportStatus,
  RowStatus,
} from '../../src/api/imports.js';
export type { Location, Role } from '../../src/api/roles.js';
export type { AuditEvent, Settings } from '../../src/api/settings.js';
export type { BulkAction, BulkAnswer, BulkStatus, User, UserStatus } from '../../src/api/users.js';

export const FINISHED: ImportStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];
