import type { Logger } from 'pino';
import type { Db } from '../src/db/index.js';
import type { Queues } from '../src/queues/producer.js';
import { enqueueDeliver, enqueueFanout } from '../src/queues/webhooks.js';
import { dueEndpoints, workspacesWithEndpoints } from '../src/webhooks/endpoints.repository.js';
import { listenForEvents, type EventListener } from '../src/webhooks/notifications.repository.js';

const RECONNECT_MS = 2_000;
/** Notifications are gathered this long, so a burst of commits makes one enqueue per workspace. */
const GATHER_MS = 50;
const PAGE = 500;
/**
 * The feed shows an event once every older transaction has ended (commit order without gaps), so a
 * fan-out right after the notification may not see it yet while some long transaction runs. Each tick
 * looks again at workspaces notified this recently; later than that, the sweeper's pass finds it.
 */
const RECHECK_MS = 5_000;

export interface WakeupDeps {
  databaseUrl: string;
  db: Db;
  queues: Queues;
  logger: Logger;
  /** How often the tick looks for endpoints with a delivery due (retries, tests, what Redis lost). */
  tickMs: number;
}

/** A fan-out for every workspace with an enabled endpoint: what notifications may have missed. */
export async function ensureFanouts(db: Db, queues: Queues): Promise<number> {
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const page = await workspacesWithEndpoints(db, PAGE, after);
    for (const workspaceId of page) await enqueueFanout(queues, workspaceId);
    count += page.length;
    if (page.length < PAGE) return count;
    after = page[page.length - 1];
  }
}

/**
 * What wakes webhook work in a worker process. New events: the trigger on audit_events notifies at
 * commit (only for workspaces with an enabled endpoint), and this process LISTENs on its own
 * connection and enqueues that workspace's fan-out; after a (re)connect it enqueues every workspace's,
 * since notifications sent while nobody listened are gone. Due deliveries (retries, tests, a chain Redis
 * lost): a tick every `tickMs` enqueues the runs of endpoints whose next_due_at has come, and the
 * fan-outs of workspaces notified in the last few seconds (RECHECK_MS). Every enqueue
 * collapses into the chain's one pending run, so several processes doing the same is harmless.
 */
export function startWebhookWakeups(deps: WakeupDeps): { close(): Promise<void> } {
  const { logger } = deps;
  let closed = false;
  let listener: EventListener | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let gather: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  const recent = new Map<string, number>();

  const flush = async () => {
    gather = undefined;
    const workspaces = [...pending];
    pending.clear();
    for (const workspaceId of workspaces)
      await enqueueFanout(deps.queues, workspaceId).catch((err: unknown) =>
        logger.warn({ err, workspaceId }, 'could not enqueue a webhook fan-out; the sweeper will'),
      );
  };

  const listen = async (): Promise<void> => {
    if (closed) return;
    let dropped = false;
    const retry = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      listener = undefined;
      if (closed) return;
      logger.warn({ err }, 'webhook event listener lost its connection; reconnecting');
      reconnect = setTimeout(() => void listen(), RECONNECT_MS);
      reconnect.unref();
    };
    try {
      const opened = await listenForEvents(deps.databaseUrl, {
        onWorkspace(workspaceId) {
          pending.add(workspaceId);
          recent.set(workspaceId, Date.now());
          gather ??= setTimeout(() => void flush(), GATHER_MS);
        },
        onLost: retry,
      });
      if (closed) return void opened.close();
      listener = opened;
      // Notifications sent while nobody listened are gone: every workspace with webhooks looks once.
      await ensureFanouts(deps.db, deps.queues);
    } catch (err) {
      retry(err as Error);
    }
  };

  let ticking = false;
  const tick = async () => {
    if (ticking || closed) return;
    ticking = true;
    try {
      const now = Date.now();
      for (const [workspaceId, at] of recent) {
        if (now - at > RECHECK_MS) recent.delete(workspaceId);
        else await enqueueFanout(deps.queues, workspaceId);
      }
      for (const e of await dueEndpoints(deps.db, 1_000))
        await enqueueDeliver(deps.queues, e.workspace_id, e.id);
    } catch (err) {
      logger.warn({ err }, 'webhook tick failed; it runs again');
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), deps.tickMs);
  timer.unref();
  void listen();

  return {
    async close() {
      closed = true;
      clearInterval(timer);
      clearTimeout(reconnect);
      clearTimeout(gather);
      const l = listener;
      listener = undefined;
      await l?.close();
    },
  };
}
