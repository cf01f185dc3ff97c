/**
 * The open-loop schedule both load workers (gRPC and HTTP) send on: requests leave at a fixed
 * rate whatever the server answers, as perf_analyzer's --request-rate-range does. A request
 * whose instant has passed leaves at once with its intended start, so latency counts the time it
 * waited behind a late timer (no coordinated omission).
 */
export function runOpenLoop(rate: number, isRunning: () => boolean, send: (intendedStart: number) => void): void {
  const interval = 1000 / rate;
  let next = performance.now();
  const tick = () => {
    if (!isRunning()) return;
    const now = performance.now();
    while (next <= now) {
      send(next);
      next += interval;
    }
    setTimeout(tick, Math.max(0, Math.min(interval, next - performance.now())));
  };
  tick();
}
