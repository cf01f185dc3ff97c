import type { Logger } from '../core/logger.js';

/**
 * Poll mode's clock: runs `poll` every `intervalSecs`, one scan at a time (the next is
 * scheduled when the previous one has finished, so a slow load never overlaps a scan).
 * The timer does not keep the process alive. Main thread only.
 */
export class RepositoryPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly poll: () => Promise<void>,
    private readonly intervalSecs: number,
    private readonly logger: Logger,
  ) {}

  /** Starts polling; does nothing when the interval is 0 (polling off). */
  start(): void {
    if (this.intervalSecs > 0 && !this.stopped) this.schedule();
  }

  /** Stops polling and waits for a scan in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'model repository scan failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule();
        });
    }, this.intervalSecs * 1000);
    this.timer.unref();
  }
}
