import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import unzipper from 'unzipper';
import {
  cellTooLong,
  checkZipDirectory,
  InflateBudget,
  partLimit,
  partTooLarge,
  WORKBOOK_LIMITS,
  workbookInflatesTooMuch,
  xmlValueTooLong,
} from './workbook-limits.js';

/**
 * A workbook's ZIP entries and the streamed XML scan of one part, with the caps of
 * workbook-limits.ts checked as the part inflates.
 */

/** A part of the ZIP and the budget of the read it belongs to. */
export interface Part {
  path: string;
  file: unzipper.File;
  budget: InflateBudget;
  isSheet: boolean;
}

export type Entries = Map<string, Part>;

export interface XmlHandlers {
  open?: (tag: SaxesTagPlain) => void;
  text?: (text: string) => void;
  close?: (name: string) => void;
}

/**
 * Streams a part's XML through `handlers`, yielding after each chunk so that a caller can hand on what
 * the handlers collected; returning from the loop (or `stop()`) inflates no more of the part.
 */
export async function* scanXml(
  part: Part,
  handlersFor: (stop: () => void) => XmlHandlers,
  maxChars = Number.POSITIVE_INFINITY,
): AsyncGenerator<void> {
  let stopped = false;
  const handlers = handlersFor(() => {
    stopped = true;
  });
  const parser = new SaxesParser({ xmlns: false });
  // saxes holds a text, attribute or comment until it ends: what runs on without an event is refused.
  let lastEvent = 0;
  const mark = () => {
    lastEvent = parser.position;
  };
  parser.on('opentag', (tag) => {
    mark();
    handlers.open?.(tag);
  });
  parser.on('text', (text) => {
    mark();
    handlers.text?.(text);
  });
  parser.on('closetag', (tag) => {
    mark();
    handlers.close?.(tag.name);
  });
  for (const event of ['comment', 'cdata', 'processinginstruction', 'doctype'] as const)
    parser.on(event, mark);
  const limit = partLimit(part.path, part.isSheet);
  if (part.file.uncompressedSize > limit) throw partTooLarge(part.path, limit);
  const stream: Readable = part.file.stream();
  const decoder = new TextDecoder('utf-8');
  let read = 0;
  let inflated = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > limit) throw partTooLarge(part.path, limit);
      part.budget.spend(chunk.length);
      const text = decoder.decode(chunk, { stream: true });
      read += text.length;
      parser.write(text);
      if (parser.position - lastEvent > WORKBOOK_LIMITS.xmlValueChars) throw xmlValueTooLong(part.path);
      yield;
      if (stopped || read > maxChars) return;
    }
    parser.close();
    yield;
  } finally {
    stream.destroy();
  }
}

/** Runs `scanXml` to its end (or its stop). */
export async function scanAll(
  part: Part,
  handlersFor: (stop: () => void) => XmlHandlers,
  maxChars?: number,
): Promise<void> {
  for await (const _ of scanXml(part, handlersFor, maxChars)) void _;
}

/** Text of `<t>` elements, phonetic runs (`<rPh>`) left out: a string item or an inline string. */
export function textCollector(where: () => string) {
  let text = '';
  let inText = false;
  let inPhonetic = false;
  return {
    reset: () => {
      text = '';
    },
    get text() {
      return text;
    },
    open(name: string) {
      if (name === 't') inText = !inPhonetic;
      else if (name === 'rPh') inPhonetic = true;
    },
    close(name: string) {
      if (name === 't') inText = false;
      else if (name === 'rPh') inPhonetic = false;
    },
    add(t: string) {
      if (!inText) return;
      text += t;
      if (text.length > WORKBOOK_LIMITS.cellChars) throw cellTooLong(where());
    },
  };
}

/** The ZIP's entries, or null for what is no ZIP; throws for a ZIP past the caps. */
export async function entries(path: string): Promise<Entries | null> {
  await checkZipDirectory(path);
  let dir: unzipper.CentralDirectory;
  try {
    dir = await unzipper.Open.file(path);
  } catch {
    return null;
  }
  let declared = 0;
  for (const f of dir.files) declared += f.uncompressedSize;
  if (declared > WORKBOOK_LIMITS.totalBytes) throw workbookInflatesTooMuch();
  const budget = new InflateBudget();
  return new Map(
    dir.files.map((file) => {
      const name = file.path.startsWith('/') ? file.path.slice(1) : file.path;
      return [name, { path: name, file, budget, isSheet: false }];
    }),
  );
}
