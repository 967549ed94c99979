import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, LOOPIT_USER } from '../schema/urns.js';
import { isObject } from '../schema/json.js';

type Json = Record<string, unknown>;
const ALWAYS = new Set(['id', 'schemas']);
const CORE = [CORE_USER, CORE_GROUP].map((u) => `${u.toLowerCase()}:`);
const EXTENSIONS = [ENTERPRISE_USER, LOOPIT_USER].map((u) => `${u.toLowerCase()}:`);

/**
 * `a, b.c, urn:...:enterprise:2.0:User:manager.value` → key paths: core URN prefixes dropped, an
 * extension's URN kept as the first key (its attributes sit under it in the resource).
 */
function parse(list: string): string[][] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      const lower = raw.toLowerCase();
      const core = CORE.find((p) => lower.startsWith(p));
      if (core) return raw.slice(core.length).split('.');
      const extension = EXTENSIONS.find((p) => lower.startsWith(p));
      if (extension) return [raw.slice(0, extension.length - 1), ...raw.slice(extension.length).split('.')];
      return raw.split('.');
    });
}

const keyOf = (obj: Json, name: string): string | undefined =>
  Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());

/** Copies the value at `path` from src into dst, through objects and the elements of lists. */
function copy(src: Json, dst: Json, [name, ...rest]: string[]): void {
  const key = keyOf(src, name!);
  if (key === undefined) return;
  const value = src[key];
  if (rest.length === 0) {
    dst[key] = value;
  } else if (Array.isArray(value)) {
    const target = Array.isArray(dst[key]) ? (dst[key] as Json[]) : value.map(() => ({}));
    value.forEach((element, i) => isObject(element) && copy(element, target[i]!, rest));
    dst[key] = target;
  } else if (isObject(value)) {
    const target = isObject(dst[key]) ? dst[key] : {};
    copy(value, target, rest);
    if (Object.keys(target).length > 0) dst[key] = target;
  }
}

/** Removes the value at `path`, through objects and the elements of lists. */
function drop(obj: Json, [name, ...rest]: string[]): void {
  const key = keyOf(obj, name!);
  if (key === undefined) return;
  const value = obj[key];
  if (rest.length === 0) delete obj[key];
  else if (Array.isArray(value)) value.forEach((element) => isObject(element) && drop(element, rest));
  else if (isObject(value)) drop(value, rest);
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.9), case-insensitive, for attributes and
 * sub-attributes of the core schema and of extensions; `id` and `schemas` are always returned. `meta`
 * goes with `attributes` only when asked for.
 */
export function project(resource: Json, attributes?: string, excluded?: string): Json {
  if (attributes?.trim()) {
    const out: Json = {};
    for (const k of Object.keys(resource)) if (ALWAYS.has(k)) out[k] = resource[k];
    for (const path of parse(attributes)) copy(resource, out, path);
    return out;
  }
  if (excluded?.trim()) {
    const out: Json = structuredClone(resource);
    for (const path of parse(excluded)) if (!(path.length === 1 && ALWAYS.has(path[0]!))) drop(out, path);
    return out;
  }
  return resource;
}
