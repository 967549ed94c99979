import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import type { User } from './types';

export interface Person {
  name: string;
  email: string | null;
}

const PARALLEL = 6;

/**
 * The people a page of the provisioning log names, looked up one id at a time (GET /v1/users/:id,
 * a few at once) and remembered while the page is open. `null`: not in the workspace any more (deleted).
 * Without the `users` scope nothing is looked up and the log shows what the events say.
 */
export function usePeople(ids: string[], enabled: boolean): Map<string, Person | null> {
  const known = useRef(new Map<string, Person | null>());
  const [, setTick] = useState(0);
  const wanted = [...new Set(ids)].filter((id) => !known.current.has(id));
  const key = wanted.join(',');

  useEffect(() => {
    if (!enabled || wanted.length === 0) return;
    let live = true;
    const queue = [...wanted];
    const worker = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        try {
          const user = await api<User>('GET', `/v1/users/${id}`);
          known.current.set(id, { name: user.name, email: user.email });
        } catch (error) {
          // Deleted (404); anything else leaves the id unresolved, shown as the event has it.
          if (error instanceof ApiError && error.status === 404) known.current.set(id, null);
          else return;
        }
      }
    };
    void Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker)).then(
      () => live && setTick((t) => t + 1),
    );
    return () => {
      live = false;
    };
  }, [key, enabled]);

  return known.current;
}
