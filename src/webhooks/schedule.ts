/**
 * When deliveries are tried again. A non-2xx answer, a timeout or a refused connection is retried
 * after about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h and 12 h: ten attempts in about 23
 * hours, then the delivery is `failed` (a person can retry it). An endpoint that has failed every
 * attempt for five days is disabled.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  3_600_000,
  3 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
];

/** One attempt may take this long, connection, request and answer together. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
export const DISABLE_AFTER_MS = 5 * 24 * 3_600_000;

/** How deliveries are paced; the production values above, or a faster schedule a test gives the workers. */
export interface DeliveryPolicy {
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  disableAfterMs: number;
  /** A run stops taking deliveries after this long, and the endpoint takes its turn again later. */
  runWallMs: number;
}

export const DEFAULT_POLICY: DeliveryPolicy = {
  retryScheduleMs: RETRY_SCHEDULE_MS,
  timeoutMs: ATTEMPT_TIMEOUT_MS,
  disableAfterMs: DISABLE_AFTER_MS,
  runWallMs: 5_000,
};

/** Attempts a delivery gets before it is `failed`: the first and one per step of the schedule. */
export const maxAttempts = (schedule: readonly number[] = RETRY_SCHEDULE_MS): number => schedule.length + 1;

/**
 * The wait after a delivery's `failedAttempts`-th failed attempt, or null when that was its last.
 */
export function retryDelayMs(
  failedAttempts: number,
  schedule: readonly number[] = RETRY_SCHEDULE_MS,
): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new RangeError('failedAttempts >= 1');
  return schedule[failedAttempts - 1] ?? null;
}

/**
 * The pause of a failing endpoint after `streak` runs in a row that failed: the same steps, staying at
 * the last one. While it lasts the endpoint gets no automatic attempt; then one delivery probes it.
 */
export function pauseMs(streak: number, schedule: readonly number[] = RETRY_SCHEDULE_MS): number {
  if (streak < 1 || schedule.length === 0) return 0;
  return schedule[Math.min(streak, schedule.length) - 1]!;
}
