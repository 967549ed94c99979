import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { call, type Call } from './context.js';

export interface FeedEvent {
  id: string;
  type: string;
  timestamp: string;
  workspaceId: string;
  data: Record<string, any>;
}

export const feedPage = (app: FastifyInstance, token: string, query = ''): Promise<Call> =>
  call(app, 'GET', `/v1/events${query ? `?${query}` : ''}`, { token });

/** Reads on from `after` while the feed says more is readable now; returns what it read and where it stopped. */
export async function readOn(
  app: FastifyInstance,
  token: string,
  opts: { after?: string | null; limit?: number; types?: string } = {},
): Promise<{ events: FeedEvent[]; next: string | null }> {
  const events: FeedEvent[] = [];
  let after = opts.after ?? null;
  for (;;) {
    const qs = new URLSearchParams({
      limit: String(opts.limit ?? 1000),
      ...(after ? { after } : {}),
      ...(opts.types ? { types: opts.types } : {}),
    });
    const res = await feedPage(app, token, qs.toString());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    events.push(...(res.body.data as FeedEvent[]));
    after = res.body.next;
    if (!res.body.hasMore) return { events, next: after };
  }
}

/**
 * Reads on until at least `count` events arrived (the feed waits for every older transaction of the
 * Postgres server to end, and the machine is shared with other work), then returns them.
 */
export async function readUntil(
  app: FastifyInstance,
  token: string,
  count: number,
  opts: { after?: string | null; limit?: number; types?: string; timeoutMs?: number } = {},
): Promise<{ events: FeedEvent[]; next: string | null }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const events: FeedEvent[] = [];
  let after = opts.after ?? null;
  for (;;) {
    const page = await readOn(app, token, { ...opts, after });
    events.push(...page.events);
    after = page.next;
    if (events.length >= count) return { events, next: after };
    if (Date.now() > deadline)
      throw new Error(
        `the feed gave ${events.length} of ${count} events: ${events.map((e) => e.type).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
