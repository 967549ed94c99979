import type { Db } from '../db/index.js';
import { ping } from './health.repository.js';

export async function postgresReady(db: Db): Promise<boolean> {
  try {
    await ping(db);
    return true;
  } catch {
    return false;
  }
}
