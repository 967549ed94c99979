import { currentSession, endSession } from './session';

/** An error answer of the API: its status, code and message (written for people), and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

async function send(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const bearer = token ?? currentSession()?.token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'The service could not be reached. Check your connection and retry.',
    );
  }
  if (!res.ok) {
    const json = (await res.json().catch(() => ({}))) as { error?: Record<string, unknown> };
    const error = json.error ?? {};
    const message = typeof error.message === 'string' ? error.message : `The service answered ${res.status}.`;
    // A token refused mid-session (revoked, expired): back to the sign-in screen, saying why.
    if (res.status === 401 && !token) endSession('rejected');
    throw new ApiError(
      res.status,
      typeof error.code === 'string' ? error.code : 'http_error',
      message,
      error,
    );
  }
  return res;
}

/** Calls the JSON API with the session's token; throws ApiError on an error answer. */
export async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await send(method, path, body, token);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Fetches a file with the token and hands it to the browser as a download. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await send('GET', path);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const query = (params: Record<string, string | number | undefined | null>): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/**
 * A refused save as a form shows it: the field to mark (from the error code, else the API's `field`
 * detail) and the API's message.
 */
export function problemOf(
  error: unknown,
  fieldOf: Record<string, string>,
): { field: string; message: string } {
  const field =
    error instanceof ApiError
      ? (fieldOf[error.code] ?? (typeof error.details.field === 'string' ? error.details.field : ''))
      : '';
  return { field, message: error instanceof Error ? error.message : 'Saving failed.' };
}
