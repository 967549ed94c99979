import type { Logger } from 'pino';

/**
 * A sweep task re-enqueues work that Postgres says is pending but Redis may have lost (imports queued or
 * processing without a live job, unsent outbox entries). Tasks must be idempotent: every worker process
 * sweeps at start and every minute, and enqueues use stable job ids.
 */
export interface SweepTask {
  name: string;
  run(): Promise<number>;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<string, number>> | undefined;

  constructor(
    private readonly tasks: SweepTask[],
    private readonly logger: Logger,
  ) {}

  /** Runs every task once; a failing task is logged and does not stop the others. Overlapping calls share one run. */
  runOnce(): Promise<Record<string, number>> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const task of this.tasks) {
      try {
        result[task.name] = await task.run();
        if (result[task.name]! > 0)
          this.logger.info({ task: task.name, enqueued: result[task.name] }, 'sweeper re-enqueued work');
      } catch (err) {
        result[task.name] = -1;
        this.logger.warn({ err, task: task.name }, 'sweep task failed; it runs again at the next sweep');
      }
    }
    return result;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
