import pg from 'pg';

/** The channel the audit_events trigger notifies (migrations/20261206100000_webhooks.ts). */
export const EVENTS_CHANNEL = 'loopit_webhook_events';

export interface EventListener {
  close(): Promise<void>;
}

/**
 * A connection of its own (not the pool's: LISTEN holds it) that listens for the trigger's
 * notifications, each the id of a workspace with new events. `onLost` is called once, when the
 * connection fails or ends; the caller reconnects.
 */
export async function listenForEvents(
  databaseUrl: string,
  handlers: { onWorkspace(workspaceId: string): void; onLost(err?: Error): void },
): Promise<EventListener> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'loopit-provision-webhooks',
  });
  let lost = false;
  const lose = (err?: Error) => {
    if (lost) return;
    lost = true;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    handlers.onLost(err);
  };
  client.on('notification', (message) => {
    if (message.payload) handlers.onWorkspace(message.payload);
  });
  client.on('error', lose);
  client.on('end', () => lose());
  try {
    await client.connect();
    await client.query(`listen ${EVENTS_CHANNEL}`);
  } catch (err) {
    lose(err as Error);
    throw err;
  }
  return {
    async close() {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
