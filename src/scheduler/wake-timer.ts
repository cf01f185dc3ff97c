import type { Clock } from './clock.js';

/**
 * A scheduler's one timer, for the earliest instant some queued work is due (a batch delay
 * ends, a timeout acts, a sequence goes idle). Arming it again for the same instant costs
 * nothing; for another instant it replaces the timer. Main thread only.
 */
export class WakeTimer {
  private cancel: (() => void) | undefined;
  private at = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly wake: () => void,
  ) {}

  /** Wakes at `at` (clock time); Infinity disarms. */
  arm(at: number): void {
    if (at === this.at) return;
    this.clear();
    this.at = at;
    if (!Number.isFinite(at)) return;
    this.cancel = this.clock.setTimer(() => {
      this.at = Infinity;
      this.cancel = undefined;
      this.wake();
    }, at - this.clock.now());
  }

  clear(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.at = Infinity;
  }
}
