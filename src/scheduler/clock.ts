import { nowMs } from '../core/execution.js';

/**
 * Time for the schedulers: the current instant (ms since the epoch, sub-ms precision,
 * comparable with worker timestamps) and one-shot timers. Injected, so batching tests run
 * on a fake clock without sleeping.
 */
export interface Clock {
  now(): number;
  /** Calls `callback` after `delayMs`; returns a function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  now: nowMs,
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
};
