import { CORE_USER } from '../schema/urns.js';

type Json = Record<string, unknown>;
const ALWAYS = new Set(['id', 'schemas']);

/** `a, b.c, urn:...:User:d` → [top, sub?] pairs; core URN prefixes dropped, extension URNs kept as the top. */
function parse(list: string): [string, string | undefined][] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      let path = raw;
      if (path.toLowerCase().startsWith(`${CORE_USER.toLowerCase()}:`))
        path = path.slice(CORE_USER.length + 1);
      const urn = /^(urn:.+):([^:]+)$/i.exec(path);
      if (urn) return [urn[1]!, urn[2]!];
      const [top, sub] = path.split('.', 2);
      return [top!, sub];
    });
}

const keyOf = (obj: Json, name: string): string | undefined =>
  Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.9), case-insensitive; `id` and `schemas` are always
 * returned. `meta` goes with `attributes` only when asked for.
 */
export function project(resource: Json, attributes?: string, excluded?: string): Json {
  if (attributes?.trim()) {
    const out: Json = {};
    for (const k of Object.keys(resource)) if (ALWAYS.has(k)) out[k] = resource[k];
    for (const [top, sub] of parse(attributes)) {
      const key = keyOf(resource, top);
      if (!key) continue;
      const value = resource[key];
      if (sub === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) {
        if (sub === undefined) out[key] = value;
        else if (Array.isArray(value)) {
          out[key] = value.map((e: unknown) => {
            const el = e as Json;
            const sk = keyOf(el, sub);
            return sk ? { [sk]: el[sk] } : {};
          });
        }
        continue;
      }
      const sk = keyOf(value as Json, sub);
      if (sk) out[key] = { ...(out[key] ?? {}), [sk]: (value as Json)[sk] };
    }
    return out;
  }
  if (excluded?.trim()) {
    const out: Json = structuredClone(resource);
    for (const [top, sub] of parse(excluded)) {
      const key = keyOf(out, top);
      if (!key || ALWAYS.has(key)) continue;
      if (sub === undefined) delete out[key];
      else if (typeof out[key] === 'object' && out[key] !== null && !Array.isArray(out[key])) {
        const sk = keyOf(out[key] as Json, sub);
        if (sk) delete (out[key] as Json)[sk];
      }
    }
    return out;
  }
  return resource;
}
