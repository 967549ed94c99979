import type { BulkOperation } from './types.js';

/** `bulkId:<id>`: a reference to the resource created by the POST with that bulkId (RFC 7644 §3.7.2). */
const REF = /^bulkId:(.+)$/;

const MAX_DEPTH = 64;

function walk(value: unknown, depth: number, found: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    const m = REF.exec(value);
    if (m) found.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) walk(v, depth + 1, found);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) walk(v, depth + 1, found);
  }
}

/** The bulkIds an operation references, in its path and anywhere in its data. */
export function referencesOf(op: BulkOperation): Set<string> {
  const found = new Set<string>();
  if (op.id !== undefined) walk(op.id, 0, found);
  walk(op.data, 0, found);
  return found;
}

function replace(value: unknown, ids: ReadonlyMap<string, string>, depth: number): unknown {
  if (depth > MAX_DEPTH) return value;
  if (typeof value === 'string') {
    const m = REF.exec(value);
    return m ? (ids.get(m[1]!) ?? value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => replace(v, ids, depth + 1));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v, ids, depth + 1)]));
  return value;
}

/** The operation with every `bulkId:<id>` (path and data) replaced by the id it resolved to. */
export function resolveReferences(op: BulkOperation, ids: ReadonlyMap<string, string>): BulkOperation {
  const out: BulkOperation = { ...op };
  if (op.id !== undefined) out.id = replace(op.id, ids, 0) as string;
  if (op.data !== undefined) out.data = replace(op.data, ids, 0);
  return out;
}
