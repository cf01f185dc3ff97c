/**
 * Runs a scheduler's dispatch step so that it never re-enters itself: a call while the step
 * runs (a request settling synchronously, an instance going idle) asks for one more pass
 * instead, which runs as soon as the current one ends. Main thread only.
 */
export class PumpLoop {
  private running = false;
  private again = false;

  constructor(private readonly step: () => void) {}

  run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }
}
