import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './api';
import type { User } from './types';

/** As many users as one POST /v1/users/bulk takes, and as many as one list page can hold. */
export const MAX_SELECTION = 1000;
const FETCH_PAGE = 250;

export interface Selection {
  users: Map<string, User>;
  /** Why the selection stopped short: more matched the filter, or the cap was reached by hand. */
  capped: 'more_match' | 'full' | null;
  /** The selection is everyone who matched the filter when it was made. */
  allMatching: boolean;
  loading: boolean;
  error: unknown;
  toggle: (user: User) => void;
  setPage: (users: User[], on: boolean) => void;
  selectMatching: () => Promise<void>;
  clear: () => void;
}

/**
 * The users picked on the Users page. It holds whole users (the confirmation needs their names and
 * who manages them), survives paging, and starts empty again when the filter changes: people picked
 * under another filter are not on screen, and acting on them by surprise is what must not happen.
 */
export function useSelection(
  filterKey: string,
  list: (cursor: string | null, limit: number) => Promise<Page<User>>,
): Selection {
  const [users, setUsers] = useState<Map<string, User>>(new Map());
  const [capped, setCapped] = useState<Selection['capped']>(null);
  const [allMatching, setAllMatching] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // A fetch of "all matching" that a newer filter or a clear has overtaken is dropped.
  const generation = useRef(0);

  const clear = () => {
    generation.current += 1;
    setUsers(new Map());
    setCapped(null);
    setAllMatching(false);
    setLoading(false);
    setError(null);
  };
  useEffect(clear, [filterKey]);

  const change = (edit: (next: Map<string, User>) => void) => {
    setAllMatching(false);
    setUsers((current) => {
      const next = new Map(current);
      edit(next);
      return next;
    });
  };

  const add = (next: Map<string, User>, user: User) => {
    if (next.has(user.id) || next.size < MAX_SELECTION) next.set(user.id, user);
    else setCapped('full');
  };

  return {
    users,
    capped,
    allMatching,
    loading,
    error,
    toggle: (user) =>
      change((next) => {
        if (next.has(user.id)) {
          next.delete(user.id);
          setCapped(null);
        } else add(next, user);
      }),
    setPage: (page, on) =>
      change((next) => {
        for (const user of page) {
          if (!on) next.delete(user.id);
          else add(next, user);
        }
        if (!on) setCapped(null);
      }),
    selectMatching: async () => {
      const mine = ++generation.current;
      setLoading(true);
      setError(null);
      try {
        const found: User[] = [];
        let cursor: string | null = null;
        do {
          const page: Page<User> = await list(cursor, Math.min(FETCH_PAGE, MAX_SELECTION - found.length));
          found.push(...page.data);
          cursor = page.nextCursor;
        } while (cursor !== null && found.length < MAX_SELECTION);
        if (mine !== generation.current) return;
        setUsers(new Map(found.map((u) => [u.id, u])));
        setCapped(cursor !== null ? 'more_match' : null);
        setAllMatching(true);
      } catch (e) {
        if (mine === generation.current) setError(e);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    clear,
  };
}
