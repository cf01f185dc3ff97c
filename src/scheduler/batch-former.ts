/** What the batch former needs to know of a queued request. */
export interface Candidate {
  /** Items in the request (its batch dimension). */
  readonly size: number;
  /** Requests share a batch only when their keys are equal (same non-batch shapes). */
  readonly shapeKey: string;
  readonly enqueuedAt: number;
}

export interface FormingPolicy {
  readonly maxBatchSize: number;
  /** Ascending, non-empty. */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
}

/** Take the first `count` candidates now, or wait until `until` (ms since the epoch) for more. */
export type BatchDecision = { readonly kind: 'send'; readonly count: number } | { readonly kind: 'wait'; readonly until: number };

/**
 * Decides the next batch from the queue's head, with the semantics of Triton's dynamic
 * batcher: grow the batch in queue order while it fits max_batch_size and the shapes
 * match; remember the last size that was a preferred size. Then:
 * - a preferred size was reached and the oldest request has not waited max_queue_delay:
 *   send that many now;
 * - the batch cannot grow (next request too big or of another shape) or reached the
 *   largest preferred size: send it all;
 * - no delay is configured, or the delay has passed: send it all;
 * - otherwise wait until the oldest request's delay runs out (or until more arrive).
 * Reads the candidates lazily and stops at the first one that cannot join, so it visits at
 * most max_batch_size + 1 of them (every request holds at least one item) however long the
 * queue. Pure: the caller owns the queue, the clock and the instances.
 */
export function decideBatch(candidates: Iterable<Candidate>, policy: FormingPolicy, now: number): BatchDecision | undefined {
  const maxPreferred = policy.preferredBatchSizes[policy.preferredBatchSizes.length - 1] ?? policy.maxBatchSize;
  let first: Candidate | undefined;
  let pending = 0;
  let count = 0;
  let oldest = Infinity;
  let bestCount = 0;
  let sendNow = false;
  for (const candidate of candidates) {
    if (first === undefined) first = candidate;
    else {
      if (pending + candidate.size > maxPreferred && bestCount === 0) bestCount = count;
      if (pending + candidate.size > policy.maxBatchSize || candidate.shapeKey !== first.shapeKey) {
        sendNow = true;
        break;
      }
    }
    pending += candidate.size;
    count += 1;
    oldest = Math.min(oldest, candidate.enqueuedAt);
    if (policy.preferredBatchSizes.includes(pending)) bestCount = count;
  }
  if (first === undefined) return undefined;
  const delayMs = policy.maxQueueDelayUs / 1000;
  const delayExceeded = delayMs > 0 && now - oldest >= delayMs;
  if (bestCount > 0 && !delayExceeded) return { kind: 'send', count: bestCount };
  if (sendNow || pending >= maxPreferred || delayMs === 0 || delayExceeded) return { kind: 'send', count };
  return { kind: 'wait', until: oldest + delayMs };
}
