import { Readable } from 'node:stream';

/**
 * An array of a JSON answer whose elements are read in pages while the answer is written (a group's
 * members), so that it is never whole in memory. `pages` is iterated once, when the answer is sent; an
 * error it throws after the first bytes went out ends the response without its closing brackets, so a
 * client can never take a cut answer for a whole one.
 */
export class StreamedArray {
  constructor(readonly pages: AsyncIterable<unknown[]>) {}
}

type Part = string | StreamedArray;

function streams(value: unknown): boolean {
  if (value instanceof StreamedArray) return true;
  if (Array.isArray(value)) return value.some(streams);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(streams);
  return false;
}

/** The value as JSON text around its streamed arrays, adjacent text joined. */
function flatten(value: unknown, parts: Part[]): void {
  const text = (s: string) => {
    const last = parts.length - 1;
    if (typeof parts[last] === 'string') parts[last] += s;
    else parts.push(s);
  };
  if (value instanceof StreamedArray) {
    parts.push(value);
  } else if (!streams(value)) {
    text(JSON.stringify(value) ?? 'null');
  } else if (Array.isArray(value)) {
    text('[');
    value.forEach((v, i) => {
      if (i > 0) text(',');
      flatten(v, parts);
    });
    text(']');
  } else {
    text('{');
    let first = true;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function') continue;
      text(`${first ? '' : ','}${JSON.stringify(key)}:`);
      flatten(v, parts);
      first = false;
    }
    text('}');
  }
}

async function* chunks(parts: Part[]): AsyncGenerator<string> {
  for (const part of parts) {
    if (typeof part === 'string') {
      yield part;
      continue;
    }
    let first = true;
    yield '[';
    for await (const page of part.pages) {
      if (page.length === 0) continue;
      yield `${first ? '' : ','}${page.map((element) => JSON.stringify(element) ?? 'null').join(',')}`;
      first = false;
    }
    yield ']';
  }
}

/**
 * A body for reply.send: the value itself when it holds no StreamedArray, else a stream of its JSON text
 * that reads the next page only when the client has taken the last (at most one page buffered).
 */
export function jsonBody(value: unknown): unknown {
  if (!streams(value)) return value;
  const parts: Part[] = [];
  flatten(value, parts);
  return Readable.from(chunks(parts), { objectMode: false, highWaterMark: 16 * 1024 });
}
