import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { registry } from '../src/lib/metrics.js';

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function refuse(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(JSON.stringify({ error: { code, message } }));
}

/**
 * A worker process (ROLE=worker) has no HTTP API, so its metrics (batches, rows, e-mails, jobs) are
 * served by this small server on METRICS_PORT: GET /metrics with the OPERATOR_TOKEN, nothing else.
 */
export async function startMetricsServer(
  host: string,
  port: number,
  operatorToken: string | undefined,
  logger: Logger,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      return refuse(res, 404, 'route_not_found', 'Only GET /metrics is served here.');
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !operatorToken || !sameSecret(token, operatorToken)) {
      return refuse(res, 401, 'invalid_token', 'Send the OPERATOR_TOKEN as "Authorization: Bearer <token>".');
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        refuse(res, 500, 'internal_error', 'Collecting the metrics failed.');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ port: bound }, 'worker metrics served on /metrics');
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
