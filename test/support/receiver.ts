import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** The request's path, such as /hooks/3. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver does with the n-th request (1-based): answer with a status, or never answer. */
export type Behaviour = (
  request: Received,
  n: number,
) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

/**
 * A local webhook receiver (plain http on 127.0.0.1, so the service must run with WEBHOOK_ALLOW_HTTP
 * and WEBHOOK_ALLOW_PRIVATE_NETWORKS). It records every request, body and headers, and answers as
 * `behaviour` says (204 by default). `stop` and `start` take it down and bring it back on the same port.
 */
export async function startReceiver(behaviour: Behaviour = () => ({ status: 204 })) {
  const received: Received[] = [];
  let behave = behaviour;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(request);
      const answer = behave(request, received.length);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const reply = () => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    /** The requests of one delivery, by its webhook-id. */
    byId: (id: string) => received.filter((r) => r.headers['webhook-id'] === id),
    behave(next: Behaviour) {
      behave = next;
    },
    /** Stops accepting connections (connection refused) and drops open ones. */
    async stop() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    start: () => listen(port),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
