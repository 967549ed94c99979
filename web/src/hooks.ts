import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './api';

export interface Paged<T> {
  page: Page<T> | null;
  error: unknown;
  loading: boolean;
  pageNumber: number;
  hasPrev: boolean;
  next: () => void;
  prev: () => void;
  reload: () => void;
}

/**
 * Server paging with the API's cursors: a stack of the cursors of the pages seen, so Previous works;
 * a change of `key` (the filters) starts again at page one. Only one page is ever in the DOM.
 */
export function usePaged<T>(key: string, load: (cursor: string | null) => Promise<Page<T>>): Paged<T> {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [state, setState] = useState<{ page: Page<T> | null; error: unknown; loading: boolean }>({
    page: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const lastKey = useRef(key);

  useEffect(() => {
    if (lastKey.current !== key) {
      lastKey.current = key;
      if (cursors.length > 1) {
        setCursors([null]);
        return;
      }
    }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(cursors[cursors.length - 1] ?? null).then(
      (page) => live && setState({ page, error: null, loading: false }),
      (error: unknown) => live && setState({ page: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, cursors, tick]);

  return {
    ...state,
    pageNumber: cursors.length,
    hasPrev: cursors.length > 1,
    next: () => {
      const cursor = state.page?.nextCursor;
      if (cursor) setCursors((c) => [...c, cursor]);
    },
    prev: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reload: useCallback(() => setTick((t) => t + 1), []),
  };
}

/** Loads once per key; `reload` loads again. */
export function useLoad<T>(
  key: string,
  load: () => Promise<T>,
): { data: T | null; error: unknown; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown }>({ data: null, error: null });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    loadRef.current().then(
      (data) => live && setState({ data, error: null }),
      (error: unknown) => live && setState({ data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
