import { ScimError } from '../../lib/errors.js';
import { COMMON_ATTRIBUTES, type ScimAttribute, type ScimSchema } from './model.js';
import { isObject } from './json.js';

/*
 * A POSTed or PUT resource checked against the schema model before anything is read from it: every
 * attribute must be declared (in its schema, or under its extension's URN), of its declared type, with
 * declared sub-attributes only. Nothing is accepted and then dropped: an unknown attribute is 400
 * invalidValue naming it. Read-only attributes sent back (id, meta, groups, as Okta's PUT echoes them)
 * are ignored, as RFC 7643 §2.2 says. The walk follows the model, so its depth is the model's.
 */

type Obj = Record<string, unknown>;
const MAX_STRING = 65_536;
const MAX_ELEMENTS = 1000;
const invalid = (detail: string) => new ScimError(400, 'invalidValue', detail);
const shown = (key: string) => JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);

const byName = (attributes: readonly ScimAttribute[]) =>
  new Map(attributes.map((a) => [a.name.toLowerCase(), a]));

function checkSimple(a: ScimAttribute, value: unknown, where: string): void {
  if (a.type === 'boolean') {
    const ok = typeof value === 'boolean' || (typeof value === 'string' && /^(true|false)$/i.test(value));
    if (!ok) throw invalid(`${where} must be true or false.`);
    return;
  }
  if (typeof value !== 'string') throw invalid(`${where} must be a string.`);
  if (value.length > MAX_STRING) throw invalid(`${where} is longer than ${MAX_STRING} characters.`);
}

function checkComplex(a: ScimAttribute, value: unknown, where: string): void {
  // Entra ID sends the enterprise manager as the manager's id alone.
  if (typeof value === 'string' && a.subAttributes?.some((s) => s.name === 'value')) return;
  if (!isObject(value)) throw invalid(`${where} must be an object.`);
  const subs = byName(a.subAttributes ?? []);
  for (const [key, item] of Object.entries(value)) {
    const sub = subs.get(key.toLowerCase());
    if (!sub) {
      const known = (a.subAttributes ?? []).map((s) => s.name).join(', ');
      throw invalid(`${where} has no sub-attribute ${shown(key)} (it has ${known}).`);
    }
    if (item !== null && sub.mutability !== 'readOnly') checkSimple(sub, item, `${where}.${sub.name}`);
  }
}

function checkValue(a: ScimAttribute, value: unknown, where: string): void {
  if (value === null || a.mutability === 'readOnly') return;
  if (a.multiValued) {
    if (!Array.isArray(value)) throw invalid(`${where} must be an array.`);
    if (value.length > MAX_ELEMENTS) throw invalid(`${where} holds more than ${MAX_ELEMENTS} values.`);
    value.forEach((item, i) =>
      a.type === 'complex' ? checkComplex(a, item, `${where}[${i}]`) : checkSimple(a, item, `${where}[${i}]`),
    );
  } else if (a.type === 'complex') checkComplex(a, value, where);
  else checkSimple(a, value, where);
}

function checkAttributes(
  body: Obj,
  attributes: Map<string, ScimAttribute>,
  where: string,
  urns: Set<string>,
) {
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (urns.has(lower)) continue;
    const a = attributes.get(lower);
    if (!a) {
      throw invalid(
        `${where || 'The resource '}has no attribute ${shown(key)}; /scim/v2/Schemas lists what this service stores (attribute names of an extension go under its schema URN).`,
      );
    }
    checkValue(a, value, `${where}${a.name}`);
  }
}

/** Checks a resource body against its core schema and extensions (each extension object under its URN). */
export function checkResource(body: Obj, core: ScimSchema, extensions: readonly ScimSchema[]): void {
  const urns = new Map(extensions.map((s) => [s.id.toLowerCase(), s]));
  checkAttributes(body, byName([...COMMON_ATTRIBUTES, ...core.attributes]), '', new Set(urns.keys()));
  for (const [key, value] of Object.entries(body)) {
    const extension = urns.get(key.toLowerCase());
    if (!extension || value === null || value === undefined) continue;
    if (!isObject(value)) throw invalid(`${extension.id} must be an object of its attributes.`);
    checkAttributes(value, byName(extension.attributes), `${extension.id}:`, new Set());
  }
}
