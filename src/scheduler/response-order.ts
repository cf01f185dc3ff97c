/**
 * Releases settlements in arrival order (Triton's preserve_ordering): a request that
 * finishes early waits until every request that arrived before it has settled.
 * Main thread only.
 */
export class ResponseOrder {
  private next = 0;
  private issued = 0;
  private readonly ready = new Map<number, () => void>();

  /** A ticket for a newly accepted request. */
  issue(): number {
    return this.issued++;
  }

  /** Runs `settle` once every earlier ticket has been released. */
  release(ticket: number, settle: () => void): void {
    this.ready.set(ticket, settle);
    for (let run = this.ready.get(this.next); run !== undefined; run = this.ready.get(this.next)) {
      this.ready.delete(this.next);
      this.next += 1;
      run();
    }
  }
}
