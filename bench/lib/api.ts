import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';

/** The fields of an Import the bench reads. */
export interface ImportView {
  id: string;
  status: string;
  totalRows: number;
  processedRows: number;
  counts: Record<string, number>;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/** Streams the file as a raw body (text/csv, or the .xlsx type) to POST /v1/imports (sendInvites defaults to true). */
export async function upload(
  baseUrl: string,
  token: string,
  file: string,
  options: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const { size } = await stat(file);
  const query = new URLSearchParams(options).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/v1/imports${query ? `?${query}` : ''}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': file.endsWith('.xlsx')
          ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
          : 'text/csv',
        'content-length': size,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const source = createReadStream(file, { highWaterMark: 256 * 1024 });
    source.on('error', reject);
    source.pipe(req);
  });
}

export async function getImport(baseUrl: string, token: string, id: string): Promise<ImportView> {
  const res = await fetch(`${baseUrl}/v1/imports/${id}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /v1/imports/${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ImportView;
}
