import type { FastifyInstance } from 'fastify';
import { call, type Call } from './context.js';

/** A multipart/form-data body with fields and one file part, in the order given. */
export function multipart(
  parts: (
    { name: string; value: string } | { name: string; file: Buffer | string; filename: string; type?: string }
  )[],
): {
  payload: Buffer;
  headers: Record<string, string>;
} {
  const boundary = `----loopit${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if ('file' in p) {
      chunks.push(
        Buffer.from(
          `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'text/csv'}\r\n\r\n`,
        ),
      );
      chunks.push(Buffer.isBuffer(p.file) ? p.file : Buffer.from(p.file));
      chunks.push(Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Uploads a raw CSV body with options in the query string. */
export async function upload(
  app: FastifyInstance,
  token: string,
  csv: string | Buffer,
  query = '',
  headers: Record<string, string> = {},
): Promise<Call> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/imports${query ? `?${query}` : ''}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', ...headers },
    payload: csv,
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

/** Polls an import until it reaches a terminal status. */
export async function waitForImport(
  app: FastifyInstance,
  token: string,
  id: string,
  timeoutMs = 30_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(app, 'GET', `/v1/imports/${id}`, { token });
    if (['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(res.body.status))
      return res.body;
    if (Date.now() > deadline) throw new Error(`import ${id} still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function allRows(
  app: FastifyInstance,
  token: string,
  id: string,
  status?: string,
): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({
      limit: '1000',
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const res = await call(app, 'GET', `/v1/imports/${id}/rows?${qs.toString()}`, { token });
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}
