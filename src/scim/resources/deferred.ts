import { StreamedArray } from '../../lib/json-stream.js';
import { project } from './projection.js';

type Json = Record<string, unknown>;
type Pages = () => AsyncIterable<Json[]>;

const PAGES = Symbol('members read while the answer is written');

/**
 * Marks a resource's `members` as read in pages only when the answer is written (a group can have
 * hundreds of thousands): it holds an empty list until then, so the projection can place it.
 */
export function deferMembers(resource: Json, pages: Pages): Json {
  Object.defineProperty(resource, PAGES, { value: pages, enumerable: false });
  return resource;
}

async function* projected(pages: AsyncIterable<Json[]>, attributes?: string, excluded?: string) {
  for await (const page of pages) {
    yield (project({ members: page }, attributes, excluded).members ?? []) as Json[];
  }
}

/**
 * `project` (attributes / excludedAttributes), with deferred members streamed when the projection keeps
 * them: each page is projected as the whole list would be. Unread when the projection leaves them out.
 */
export function projectResource(resource: Json, attributes?: string, excluded?: string): Json {
  const out = project(resource, attributes, excluded);
  const pages = (resource as { [PAGES]?: Pages })[PAGES];
  if (!pages || !Object.hasOwn(out, 'members')) return out;
  return { ...out, members: new StreamedArray(projected(pages(), attributes, excluded)) };
}
