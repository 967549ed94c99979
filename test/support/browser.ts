import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Debian's chromium (or CHROMIUM_PATH), driven by playwright-core: nothing downloads a browser. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => Boolean(p && existsSync(p)),
);

/** A port nobody listens on, for a server started as a process. */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
