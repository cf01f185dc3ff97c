import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideBatch, type Candidate, type FormingPolicy } from '../../../src/scheduler/batch-former.js';

/** A queued request of `size` items, shape key `key`, enqueued at `at` ms. */
const c = (size: number, at = 0, key = 'a'): Candidate => ({ size, shapeKey: key, enqueuedAt: at });
const ones = (n: number, at = 0) => Array.from({ length: n }, () => c(1, at));

const policy = (overrides: Partial<FormingPolicy> = {}): FormingPolicy => ({
  maxBatchSize: 8,
  preferredBatchSizes: [overrides.maxBatchSize ?? 8],
  maxQueueDelayUs: 0,
  ...overrides,
});

describe('decideBatch', () => {
  it('decides nothing for an empty queue', () => {
    assert.equal(decideBatch([], policy(), 0), undefined, 'an empty queue gives no decision');
    assert.equal(decideBatch([], policy({ maxQueueDelayUs: 10_000 }), 0), undefined, 'also with a delay configured');
  });

  describe('without max_queue_delay', () => {
    it('sends whatever is queued', () => {
      assert.deepEqual(decideBatch(ones(1), policy(), 0), { kind: 'send', count: 1 }, 'one request is sent alone');
      assert.deepEqual(decideBatch(ones(3), policy(), 0), { kind: 'send', count: 3 }, 'three requests are sent together');
      assert.deepEqual(decideBatch([c(2), c(3), c(1)], policy(), 0), { kind: 'send', count: 3 }, 'sizes add up to 6 items, under 8');
    });

    it('sends at most max_batch_size items', () => {
      assert.deepEqual(decideBatch(ones(10), policy(), 0), { kind: 'send', count: 8 }, '10 queued, max 8: 8 are sent');
      assert.deepEqual(decideBatch([c(4), c(3), c(2)], policy(), 0), { kind: 'send', count: 2 }, '4+3 fit in 8, adding 2 would not');
    });

    it('sends a first request as large as max_batch_size alone', () => {
      assert.deepEqual(decideBatch([c(8), c(1)], policy(), 0), { kind: 'send', count: 1 }, 'a full request is a batch of its own');
    });
  });

  describe('preferred batch sizes', () => {
    const preferred = policy({ preferredBatchSizes: [2, 4] });

    it('sends the largest preferred size the queue reaches', () => {
      assert.deepEqual(decideBatch(ones(5), preferred, 0), { kind: 'send', count: 4 }, '5 queued, preferred [2,4]: 4 are sent');
      assert.deepEqual(decideBatch(ones(4), preferred, 0), { kind: 'send', count: 4 }, '4 queued: all 4 are sent');
      assert.deepEqual(decideBatch(ones(3), preferred, 0), { kind: 'send', count: 2 }, '3 queued: the preferred 2 are sent');
    });

    it('counts items, not requests, towards a preferred size', () => {
      assert.deepEqual(decideBatch([c(1), c(3), c(1)], preferred, 0), { kind: 'send', count: 2 }, '1+3 = 4 items is preferred');
      assert.deepEqual(decideBatch([c(2), c(1)], preferred, 0), { kind: 'send', count: 1 }, 'the first request alone is the preferred 2');
    });

    it('sends a preferred size at once even while max_queue_delay has not passed', () => {
      const delayed = policy({ preferredBatchSizes: [2, 4], maxQueueDelayUs: 10_000 });
      assert.deepEqual(decideBatch(ones(3, 100), delayed, 101), { kind: 'send', count: 2 }, 'the preferred 2 are sent at once');
      assert.deepEqual(decideBatch(ones(5, 100), delayed, 101), { kind: 'send', count: 4 }, 'the preferred 4 are sent at once');
    });

    it('sends everything queued, past the preferred size, once the delay has passed', () => {
      const delayed = policy({ preferredBatchSizes: [2, 4], maxQueueDelayUs: 10_000 });
      assert.deepEqual(decideBatch(ones(3, 100), delayed, 110), { kind: 'send', count: 3 }, 'delay passed: all 3 are sent');
      assert.deepEqual(decideBatch(ones(5, 100), delayed, 110), { kind: 'send', count: 5 }, 'delay passed: all 5 are sent (max 8)');
    });
  });

  describe('what stops a batch from growing', () => {
    const delayed = policy({ maxQueueDelayUs: 10_000 });

    it('a request that would exceed max_batch_size: the batch is sent now, without waiting for the delay', () => {
      assert.deepEqual(decideBatch([c(4, 100), c(5, 100)], delayed, 101), { kind: 'send', count: 1 }, '4 then 5: only the 4 fits');
      assert.deepEqual(decideBatch([c(3, 100), c(3, 100), c(3, 100)], delayed, 101), { kind: 'send', count: 2 }, '3+3 then 3: 6 are sent');
    });

    it('a request of another shape: the batch is sent now, without waiting for the delay', () => {
      const queue = [c(1, 100, 'a'), c(1, 100, 'a'), c(1, 100, 'b'), c(1, 100, 'a')];
      assert.deepEqual(decideBatch(queue, delayed, 101), { kind: 'send', count: 2 }, 'the batch stops at the first other shape');
      assert.deepEqual(decideBatch(queue, policy(), 101), { kind: 'send', count: 2 }, 'also without a delay');
    });

    it('a head request of another shape than the rest is sent alone', () => {
      assert.deepEqual(decideBatch([c(1, 0, 'b'), c(1, 0, 'a'), c(1, 0, 'a')], policy(), 0), { kind: 'send', count: 1 }, 'head b is sent alone');
    });
  });

  describe('max_queue_delay', () => {
    const delayed = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 10_000 });

    it('waits until the oldest request has waited the delay when no preferred size is reached', () => {
      assert.deepEqual(decideBatch(ones(1, 100), delayed, 100), { kind: 'wait', until: 110 }, 'one request waits until 100 + 10 ms');
      assert.deepEqual(decideBatch([c(1, 100), c(1, 105)], delayed, 106), { kind: 'wait', until: 110 }, 'the delay runs from the oldest');
      assert.deepEqual(decideBatch(ones(3, 100), delayed, 109.999), { kind: 'wait', until: 110 }, 'just before the delay ends it still waits');
    });

    it('sends everything once the delay has passed', () => {
      assert.deepEqual(decideBatch(ones(1, 100), delayed, 110), { kind: 'send', count: 1 }, 'at exactly the delay it sends');
      assert.deepEqual(decideBatch(ones(3, 100), delayed, 250), { kind: 'send', count: 3 }, 'long after the delay it sends all 3');
    });

    it('sends at once when the largest preferred size is reached', () => {
      assert.deepEqual(decideBatch(ones(4, 100), delayed, 100), { kind: 'send', count: 4 }, '4 queued = largest preferred: no wait');
    });

    it('reads the delay in microseconds', () => {
      const short = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 500 });
      assert.deepEqual(decideBatch(ones(1, 100), short, 100), { kind: 'wait', until: 100.5 }, '500 µs = 0.5 ms');
      assert.deepEqual(decideBatch(ones(1, 100), short, 100.5), { kind: 'send', count: 1 }, 'sent once 0.5 ms passed');
    });
  });

  describe('saturation: the next request would exceed the largest preferred size', () => {
    it('sends the requests before it at once', () => {
      const delayed = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 10_000 });
      assert.deepEqual(decideBatch([c(1, 100), c(1, 100), c(1, 100), c(2, 100)], delayed, 101), { kind: 'send', count: 3 }, '1+1+1 then 2 > 4: 3 are sent');
      assert.deepEqual(decideBatch([c(1, 100), c(1, 100), c(1, 100), c(2, 100)], policy({ preferredBatchSizes: [4] }), 101), { kind: 'send', count: 3 }, 'the same without a delay');
      assert.deepEqual(decideBatch([c(3, 100), c(3, 100)], delayed, 101), { kind: 'send', count: 1 }, '3 then 3 > 4: the 3 is sent alone');
    });

    it('once the delay has passed, sends everything that fits max_batch_size instead', () => {
      const delayed = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 10_000 });
      assert.deepEqual(decideBatch([c(1, 100), c(1, 100), c(1, 100), c(2, 100)], delayed, 110), { kind: 'send', count: 4 }, 'delay passed: 5 items in 4 requests');
    });
  });

  describe('the oldest request', () => {
    const delayed = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 10_000 });

    it('is the minimum enqueuedAt among the candidates, not the first one', () => {
      // A higher-priority request that arrived later sits in front of an older one.
      assert.deepEqual(decideBatch([c(1, 105), c(1, 100)], delayed, 110), { kind: 'send', count: 2 }, 'the second (older) request has waited 10 ms');
      assert.deepEqual(decideBatch([c(1, 105), c(1, 103)], delayed, 106), { kind: 'wait', until: 113 }, 'waits until the older one is 10 ms old');
    });

    it('ignores requests the batch cannot include', () => {
      // The old request of another shape is not part of this batch.
      assert.deepEqual(decideBatch([c(1, 105, 'a'), c(1, 0, 'b')], delayed, 106), { kind: 'send', count: 1 }, 'another shape stops the batch: sent now');
    });
  });

  describe('reading the queue', () => {
    /** An endless queue of one-item requests that counts how many were read. */
    function endless(at = 100) {
      const read = { count: 0 };
      function* candidates(): Generator<Candidate> {
        for (;;) {
          read.count += 1;
          yield c(1, at);
        }
      }
      return { read, candidates: candidates() };
    }

    it('reads at most max_batch_size + 1 candidates, however long the queue', () => {
      const q = endless();
      assert.deepEqual(decideBatch(q.candidates, policy(), 100), { kind: 'send', count: 8 }, 'a full batch of 8');
      assert.equal(q.read.count, 9, 'the 9th shows the batch is full; no more are read');
      const preferred = endless();
      assert.deepEqual(decideBatch(preferred.candidates, policy({ preferredBatchSizes: [2, 4], maxQueueDelayUs: 10_000 }), 100), { kind: 'send', count: 4 });
      assert.equal(preferred.read.count, 9, 'also with preferred sizes and a delay');
    });
  });
});
