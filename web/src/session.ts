/** The signed-in workspace token and what it may open, kept in sessionStorage (gone with the tab). */
export type Scope = 'users' | 'imports' | 'admin';

export interface Session {
  token: string;
  scopes: Scope[];
  /** The workspace's name, shown in the header. */
  workspace?: string;
}

const KEY = 'loopit.session';
const listeners = new Set<() => void>();
/** Why the last session ended, shown on the sign-in screen. */
let endedBecause: 'rejected' | null = null;

export function currentSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function startSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  endedBecause = null;
  listeners.forEach((l) => l());
}

export function endSession(reason: 'rejected' | null = null): void {
  sessionStorage.removeItem(KEY);
  endedBecause = reason;
  listeners.forEach((l) => l());
}

export const endReason = (): 'rejected' | null => endedBecause;

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
