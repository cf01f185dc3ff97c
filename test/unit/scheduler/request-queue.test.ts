import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamicBatchingPolicy, QueuePolicy } from '../../../src/core/batching-policy.js';
import { InferError } from '../../../src/core/errors.js';
import type { ValidatedRequest } from '../../../src/core/request-validation.js';
import { decideBatch } from '../../../src/scheduler/batch-former.js';
import type { Clock } from '../../../src/scheduler/clock.js';
import { PendingRequest } from '../../../src/scheduler/pending-request.js';
import { RequestQueue } from '../../../src/scheduler/request-queue.js';
import { FakeClock, identityModel, makeRequest, seededRandom, shuffled, type RequestOptions } from '../../helpers/scheduler-fakes.js';

const MODEL = identityModel();
const INT8_MODEL = identityModel(8, true);

const queuePolicy = (overrides: Partial<QueuePolicy> = {}): QueuePolicy => ({
  timeoutAction: 'reject',
  defaultTimeoutUs: 0,
  allowTimeoutOverride: false,
  maxQueueSize: 0,
  ...overrides,
});

function policy(overrides: Partial<DynamicBatchingPolicy> = {}): DynamicBatchingPolicy {
  return {
    maxBatchSize: 8,
    preferredBatchSizes: [8],
    maxQueueDelayUs: 0,
    preserveOrdering: false,
    priorityLevels: 0,
    defaultPriorityLevel: 0,
    defaultQueuePolicy: queuePolicy(),
    priorityQueuePolicy: new Map(),
    ...overrides,
  };
}

/** Builds PendingRequests stamped with the fake clock's time; `ids` reads a queue's order. */
function setup(p: DynamicBatchingPolicy) {
  const clock = new FakeClock();
  const queue = new RequestQueue(p);
  const pending = (marker: number, options: RequestOptions = {}) =>
    new PendingRequest({
      request: makeRequest(MODEL, marker, options),
      signal: new AbortController().signal,
      clock,
      resolve: () => {},
      reject: () => {},
      onAbort: () => {},
    });
  const push = (marker: number, options: RequestOptions = {}) => {
    const p = pending(marker, options);
    queue.push(p);
    return p;
  };
  const ids = (list: readonly PendingRequest[] = queue.ordered()) => list.map((p) => p.request.request.id);
  return { clock, queue, pending, push, ids, t0: clock.now() };
}

describe('RequestQueue', () => {
  describe('levelOf', () => {
    it('maps every priority to the single level 0 when priority_levels is 0', () => {
      const { queue } = setup(policy());
      for (const priority of [0, 1, 2, 7, 2 ** 31]) assert.equal(queue.levelOf(priority), 0, `priority ${priority} -> level 0`);
    });

    it('maps 0 and priorities above the level count to the default level', () => {
      const { queue } = setup(policy({ priorityLevels: 3, defaultPriorityLevel: 2 }));
      assert.equal(queue.levelOf(0), 2, 'priority 0 -> default level 2');
      assert.equal(queue.levelOf(1), 1, 'priority 1 -> level 1');
      assert.equal(queue.levelOf(2), 2, 'priority 2 -> level 2');
      assert.equal(queue.levelOf(3), 3, 'priority 3 -> level 3');
      assert.equal(queue.levelOf(4), 2, 'priority 4 > 3 levels -> default level 2');
      assert.equal(queue.levelOf(2 ** 31), 2, 'a huge priority -> default level 2');
    });
  });

  describe('order', () => {
    it('keeps arrival order on a single level, whatever the priorities', () => {
      const { push, ids } = setup(policy());
      push(1, { priority: 3 });
      push(2, { priority: 1 });
      push(3);
      assert.deepEqual(ids(), ['r1', 'r2', 'r3'], 'priorities are ignored without priority levels');
    });

    it('serves level 1 before level 2, arrival order within a level', () => {
      const { push, ids, queue } = setup(policy({ priorityLevels: 3, defaultPriorityLevel: 2 }));
      push(1, { priority: 2 });
      push(2); // default level 2
      push(3, { priority: 3 });
      push(4, { priority: 1 });
      push(5, { priority: 9 }); // above the levels: default level 2
      push(6, { priority: 1 });
      assert.deepEqual(ids(), ['r4', 'r6', 'r1', 'r2', 'r5', 'r3'], 'level 1, then level 2, then level 3');
      assert.equal(queue.size, 6, 'size counts every queued request');
    });

    it('puts DELAY-expired requests after the unexpired ones of their level, ahead of lower levels', async () => {
      const delay = queuePolicy({ timeoutAction: 'delay', defaultTimeoutUs: 1000 });
      const { push, ids, queue, clock } = setup(
        policy({ priorityLevels: 2, defaultPriorityLevel: 2, defaultQueuePolicy: delay, priorityQueuePolicy: new Map([[1, delay]]) }),
      );
      push(1, { priority: 1 });
      push(2, { priority: 1 });
      await clock.advance(0.5);
      push(3, { priority: 1 });
      push(4, { priority: 2 });
      await clock.advance(0.7); // r1, r2 are 1.2 ms old; r3, r4 0.7 ms
      const { rejected } = queue.expire(clock.now());
      assert.deepEqual(ids(rejected), [], 'DELAY rejects nothing');
      assert.deepEqual(ids(), ['r3', 'r1', 'r2', 'r4'], 'expired r1, r2 behind r3, in their arrival order, before level 2');
      push(5, { priority: 1 });
      assert.deepEqual(ids(), ['r3', 'r5', 'r1', 'r2', 'r4'], 'a new request also goes ahead of the delayed ones');
      assert.equal(queue.size, 5, 'delayed requests still count in size');
    });
  });

  describe('max_queue_size', () => {
    it('rejects a request at once when its level is full, with Triton’s message', () => {
      const { push, pending, queue } = setup(policy({ defaultQueuePolicy: queuePolicy({ maxQueueSize: 2 }) }));
      push(1);
      push(2);
      const third = pending(3, { id: 'req-3' });
      assert.throws(
        () => queue.push(third),
        (err: unknown) => {
          assert.ok(err instanceof InferError, 'an InferError');
          assert.equal(err.id, 'QUEUE_FULL', 'id QUEUE_FULL');
          assert.equal(err.code, 'UNAVAILABLE', 'code UNAVAILABLE');
          assert.equal(err.message, '[request id: req-3] Exceeds maximum queue size', 'Triton message with the request id');
          return true;
        },
        'the third request is refused',
      );
      assert.equal(queue.size, 2, 'the refused request is not queued');
      assert.equal(queue.ordered().includes(third), false, 'the refused request is not in the order');
    });

    it('says <id_unknown> for a request without an id', () => {
      const { push, pending, queue } = setup(policy({ defaultQueuePolicy: queuePolicy({ maxQueueSize: 1 }) }));
      push(1);
      assert.throws(
        () => queue.push(pending(2, { id: '' })),
        (err: unknown) => err instanceof InferError && err.message === '[request id: <id_unknown>] Exceeds maximum queue size',
        'message names <id_unknown>',
      );
    });

    it('accepts again after a queued request is removed', () => {
      const { push, queue, ids } = setup(policy({ defaultQueuePolicy: queuePolicy({ maxQueueSize: 1 }) }));
      const first = push(1);
      queue.remove(first);
      push(2);
      assert.deepEqual(ids(), ['r2'], 'room was made by the removal');
    });

    it('counts each level on its own', () => {
      const { push, pending, queue, ids } = setup(
        policy({
          priorityLevels: 2,
          defaultPriorityLevel: 2,
          priorityQueuePolicy: new Map([[1, queuePolicy({ maxQueueSize: 1 })]]),
        }),
      );
      push(1, { priority: 1 });
      assert.throws(() => queue.push(pending(2, { priority: 1 })), (err: unknown) => err instanceof InferError && err.id === 'QUEUE_FULL', 'level 1 is full');
      for (let m = 3; m < 8; m++) push(m, { priority: 2 });
      assert.deepEqual(ids(), ['r1', 'r3', 'r4', 'r5', 'r6', 'r7'], 'level 2 (unbounded default policy) takes any number');
    });

    it('counts DELAY-expired requests of the level', async () => {
      const { push, pending, queue, clock } = setup(
        policy({ defaultQueuePolicy: queuePolicy({ maxQueueSize: 2, timeoutAction: 'delay', defaultTimeoutUs: 1000 }) }),
      );
      push(1);
      await clock.advance(2);
      queue.expire(clock.now());
      push(2);
      assert.throws(() => queue.push(pending(3)), (err: unknown) => err instanceof InferError && err.id === 'QUEUE_FULL', 'r1 (delayed) + r2 fill the level');
    });
  });

  describe('timeouts', () => {
    /** The instant (relative to t0) the queue will next act on, after pushing one request. */
    function deadlineOf(p: QueuePolicy, options: RequestOptions): number {
      const { push, queue, t0 } = setup(policy({ defaultQueuePolicy: p }));
      push(1, options);
      return queue.expire(t0).next - t0;
    }

    it('uses the default timeout', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 2000 }), {}), 2, '2000 µs default -> 2 ms');
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 0 }), {}), Infinity, '0 = no timeout');
    });

    it('lets a request lower the default when override is allowed', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 2000, allowTimeoutOverride: true }), { timeoutUs: 1000 }), 1, 'lowered to 1 ms');
    });

    it('never lets a request raise the default', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 2000, allowTimeoutOverride: true }), { timeoutUs: 5000 }), 2, 'a higher timeout is ignored');
    });

    it('applies a request timeout when the default is 0 (none) and override is allowed', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 0, allowTimeoutOverride: true }), { timeoutUs: 3000 }), 3, 'request timeout 3 ms');
    });

    it('ignores a request timeout of 0', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 2000, allowTimeoutOverride: true }), { timeoutUs: 0 }), 2, 'timeout 0 keeps the default');
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 0, allowTimeoutOverride: true }), { timeoutUs: 0 }), Infinity, 'and 0 default stays no timeout');
    });

    it('ignores a request timeout when override is not allowed', () => {
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 2000 }), { timeoutUs: 1000 }), 2, 'the default stays');
      assert.equal(deadlineOf(queuePolicy({ defaultTimeoutUs: 0 }), { timeoutUs: 1000 }), Infinity, 'no timeout stays no timeout');
    });

    it('uses the policy of the request’s level', () => {
      const { push, queue, t0 } = setup(
        policy({
          priorityLevels: 2,
          defaultPriorityLevel: 2,
          defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 5000 }),
          priorityQueuePolicy: new Map([[1, queuePolicy({ defaultTimeoutUs: 1000 })]]),
        }),
      );
      push(2, { priority: 2 });
      assert.equal(queue.expire(t0).next - t0, 5, 'level 2 uses the default policy: 5 ms');
      push(1, { priority: 1 });
      assert.equal(queue.expire(t0).next - t0, 1, 'level 1 has its own policy: 1 ms');
    });
  });

  describe('expire', () => {
    it('returns and removes REJECT-expired requests, and gives the next deadline', async () => {
      const { push, queue, ids, clock, t0 } = setup(policy({ defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1000 }) }));
      push(1);
      await clock.advance(0.4);
      push(2);
      push(3);
      await clock.advance(0.4);
      push(4);
      let result = queue.expire(t0 + 0.5);
      assert.deepEqual(ids(result.rejected), [], 'nothing expired at 0.5 ms');
      assert.equal(result.next, t0 + 1, 'r1 is next, at 1 ms');
      result = queue.expire(t0 + 1.5);
      assert.deepEqual(ids(result.rejected), ['r1', 'r2', 'r3'], 'r1 (1 ms), r2 and r3 (1.4 ms) expired');
      assert.equal(result.next, t0 + 1.8, 'r4 is next, at 1.8 ms');
      assert.deepEqual(ids(), ['r4'], 'only r4 is left');
      assert.equal(queue.size, 1, 'size follows');
      result = queue.expire(t0 + 10);
      assert.deepEqual(ids(result.rejected), ['r4'], 'r4 expired');
      assert.equal(result.next, Infinity, 'nothing left to act on');
      assert.equal(queue.size, 0, 'empty');
    });

    it('moves DELAY-expired requests behind, keeps them, and leaves them out of the next deadline', async () => {
      const { push, queue, ids, clock, t0 } = setup(policy({ defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1000, timeoutAction: 'delay' }) }));
      push(1);
      push(2);
      await clock.advance(0.5);
      push(3);
      let result = queue.expire(t0 + 1);
      assert.deepEqual(ids(result.rejected), [], 'DELAY rejects nothing');
      assert.equal(result.next, t0 + 1.5, 'r3 is next; r1 and r2 no longer count');
      assert.deepEqual(ids(), ['r3', 'r1', 'r2'], 'r1 and r2 behind r3');
      result = queue.expire(t0 + 2);
      assert.deepEqual(ids(), ['r1', 'r2', 'r3'], 'r3 expires later and joins the delayed ones after r1 and r2');
      assert.equal(result.next, Infinity, 'every request is delayed: nothing left to act on');
      assert.equal(queue.size, 3, 'DELAY keeps them all');
    });

    it('handles levels with different actions in one pass', async () => {
      const { push, queue, ids, clock, t0 } = setup(
        policy({
          priorityLevels: 2,
          defaultPriorityLevel: 2,
          defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1000, timeoutAction: 'delay' }),
          priorityQueuePolicy: new Map([[1, queuePolicy({ defaultTimeoutUs: 1000 })]]),
        }),
      );
      push(1, { priority: 1 });
      push(2, { priority: 2 });
      await clock.advance(0.5);
      push(3, { priority: 2 });
      const result = queue.expire(t0 + 1);
      assert.deepEqual(ids(result.rejected), ['r1'], 'level 1 rejects');
      assert.deepEqual(ids(), ['r3', 'r2'], 'level 2 delays r2 behind r3');
      assert.equal(result.next, t0 + 1.5, 'r3 is next');
    });
  });

  describe('remove', () => {
    it('removes a queued request', () => {
      const { push, queue, ids } = setup(policy());
      push(1);
      const second = push(2);
      push(3);
      queue.remove(second);
      assert.deepEqual(ids(), ['r1', 'r3'], 'r2 is gone');
      assert.equal(queue.size, 2, 'size follows');
    });

    it('removes a delayed request', async () => {
      const { push, queue, ids, clock } = setup(policy({ defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1000, timeoutAction: 'delay' }) }));
      const first = push(1);
      const second = push(2);
      await clock.advance(2);
      push(3);
      queue.expire(clock.now());
      assert.deepEqual(ids(), ['r3', 'r1', 'r2'], 'r1, r2 delayed');
      queue.remove(first);
      assert.deepEqual(ids(), ['r3', 'r2'], 'r1 removed from the delayed ones');
      queue.remove(second);
      assert.deepEqual(ids(), ['r3'], 'r2 removed too');
      assert.equal(queue.size, 1, 'size follows');
    });

    it('ignores a request that is not queued, or removed twice', () => {
      const { push, pending, queue, ids } = setup(policy());
      const first = push(1);
      push(2);
      queue.remove(pending(9));
      queue.remove(first);
      queue.remove(first);
      assert.deepEqual(ids(), ['r2'], 'only r1 was removed, once');
      assert.equal(queue.size, 1, 'size follows');
    });

    it('a removed request no longer expires', async () => {
      const { push, queue, ids, clock } = setup(policy({ defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1000 }) }));
      const first = push(1);
      queue.remove(first);
      await clock.advance(2);
      const result = queue.expire(clock.now());
      assert.deepEqual(ids(result.rejected), [], 'nothing rejected');
      assert.equal(result.next, Infinity, 'nothing to act on');
    });
  });

  describe('batches: variants, candidates and take', () => {
    it('lists the variants with queued requests in the order of their first request', async () => {
      const { queue, clock } = setup(policy({ priorityLevels: 2, defaultPriorityLevel: 2 }));
      const push = (precision: string, priority = 0) =>
        queue.push(new PendingRequest({ request: makeRequest(INT8_MODEL, 1, { precision, priority }), signal: new AbortController().signal, clock, resolve: () => {}, reject: () => {}, onAbort: () => {} }));
      assert.deepEqual(queue.queuedVariants(), [], 'none when empty');
      push('int8');
      push('fp32');
      assert.deepEqual(queue.queuedVariants(), ['int8', 'fp32'], 'int8 queued first');
      push('fp32', 1);
      assert.deepEqual(queue.queuedVariants(), ['fp32', 'int8'], 'a level-1 fp32 request puts fp32 first');
      await clock.advance(0);
    });

    it('gives a variant’s candidates in batch order and takes them from the head', async () => {
      const delay = queuePolicy({ timeoutAction: 'delay', defaultTimeoutUs: 1000 });
      const { queue, clock, ids } = setup(policy({ priorityLevels: 2, defaultPriorityLevel: 2, defaultQueuePolicy: delay, priorityQueuePolicy: new Map([[1, delay]]) }));
      const all: PendingRequest[] = [];
      const push = (marker: number, options: RequestOptions) => {
        const p = new PendingRequest({ request: makeRequest(INT8_MODEL, marker, { ...options, rows: marker % 3 === 0 ? 2 : 1 }), signal: new AbortController().signal, clock, resolve: () => {}, reject: () => {}, onAbort: () => {} });
        queue.push(p);
        all.push(p);
      };
      push(1, { priority: 2, precision: 'fp32' });
      push(2, { priority: 2, precision: 'int8' });
      await clock.advance(2);
      queue.expire(clock.now()); // r1, r2 delayed
      push(3, { priority: 2, precision: 'fp32' });
      push(4, { priority: 1, precision: 'fp32' });
      push(5, { priority: 1, precision: 'int8' });
      assert.deepEqual(ids(), ['r4', 'r5', 'r3', 'r1', 'r2'], 'the whole queue');
      const fp32 = [...queue.candidates('fp32')];
      assert.deepEqual(fp32.map((c) => c.size), [1, 2, 1], 'fp32 candidates r4, r3 (2 rows), r1');
      assert.deepEqual(ids(queue.take('fp32', 2)), ['r4', 'r3'], 'take removes from the head, in that order');
      assert.deepEqual(ids(), ['r5', 'r1', 'r2'], 'the rest');
      assert.deepEqual(ids(queue.take('int8', 5)), ['r5', 'r2'], 'take stops when the variant is empty');
      assert.deepEqual(ids(queue.take('fp16', 1)), [], 'an unknown variant has nothing');
      assert.deepEqual([...queue.candidates('fp16')], [], 'nor candidates');
      assert.equal(queue.size, 1, 'r1 is left');
    });
  });

  describe('cost per operation, counted in steps, with 10, 1,000 and 100,000 queued', () => {
    /** A queue on a hand-set clock, filled fast with copies of one request. */
    function filler(p: DynamicBatchingPolicy) {
      let t = 1_000_000;
      const clock: Clock = { now: () => t, setTimer: () => () => {} };
      const queue = new RequestQueue(p);
      const request: ValidatedRequest = makeRequest(MODEL, 1);
      const queued: PendingRequest[] = [];
      const make = () => new PendingRequest({ request, signal: new AbortController().signal, clock, resolve: () => {}, reject: () => {}, onAbort: () => {} });
      const fill = (n: number) => {
        while (queue.size < n) {
          t += 0.001;
          const p = make();
          queue.push(p);
          queued.push(p);
        }
      };
      /** Steps one call of `operation` took. */
      const cost = (operation: () => void) => {
        const before = queue.steps;
        operation();
        return queue.steps - before;
      };
      const random = seededRandom(5);
      /** Removes a random queued request from the middle of the queue. */
      const removeOne = () => {
        const index = Math.floor(queued.length / 4 + random() * (queued.length / 2));
        const [victim] = queued.splice(index, 1);
        queue.remove(victim!);
      };
      const nextBatch = () => {
        for (const variant of queue.queuedVariants()) decideBatch(queue.candidates(variant), p, t);
      };
      const takeBatch = () => {
        for (const p of queue.take('fp32', 8)) queued.splice(queued.indexOf(p), 1);
      };
      return { queue, fill, cost, push: () => queue.push(make()), removeOne, nextBatch, takeBatch, now: () => t, advance: (ms: number) => (t += ms) };
    }

    const SIZES = [10, 1000, 100_000];

    it('without timeouts: push, remove, deciding the next batch and taking it cost the same at every size', () => {
      const q = filler(policy({ priorityLevels: 2, defaultPriorityLevel: 2 }));
      const costs = SIZES.map((n) => {
        q.fill(n);
        return {
          push: q.cost(q.push),
          remove: q.cost(q.removeOne),
          decide: q.cost(q.nextBatch),
          take: q.cost(q.takeBatch),
          expire: q.cost(() => q.queue.expire(q.now())),
        };
      });
      for (let i = 1; i < SIZES.length; i++) {
        assert.deepEqual(costs[i], costs[0], `steps with ${SIZES[i]} queued equal those with ${SIZES[0]}: ${JSON.stringify(costs)}`);
      }
      // Finding the variant's head (the variant, its lane, its first request), then at most
      // max_batch_size + 1 requests and their lane.
      assert.ok(costs[0]!.decide <= 3 + 1 + 9, `deciding a batch visits at most max_batch_size + 1 requests: ${costs[0]!.decide} steps`);
    });

    it('with timeouts: each costs at most O(log n) more (the timeout heap), and an expired request as much', () => {
      const q = filler(policy({ defaultQueuePolicy: queuePolicy({ defaultTimeoutUs: 1_000_000, timeoutAction: 'delay' }) }));
      const costs = SIZES.map((n) => {
        q.fill(n);
        const push = q.cost(q.push);
        const remove = q.cost(q.removeOne);
        const decide = q.cost(q.nextBatch);
        const idle = q.cost(() => q.queue.expire(q.now()));
        // Let the 10 oldest waiting requests time out (they queued 0.001 ms apart), then expire them.
        const tenth = q.queue.ordered()[9]!.enqueuedAt;
        const saved = q.now();
        q.advance(tenth + 1000 - saved);
        const expire10 = q.cost(() => assert.equal(q.queue.expire(q.now()).rejected.length, 0, 'DELAY rejects nothing'));
        q.advance(saved - q.now());
        const take = q.cost(q.takeBatch);
        return { n, push, remove, decide, take, idle, expire10 };
      });
      for (const c of costs) {
        const log = Math.floor(Math.log2(c.n)) + 1;
        assert.ok(c.push <= costs[0]!.push + 2 * log, `push at ${c.n}: ${c.push}`);
        assert.ok(c.remove <= 2 + 2 * log, `remove at ${c.n}: ${c.remove} <= ${2 + 2 * log}`);
        assert.equal(c.decide, costs[0]!.decide, `deciding the next batch at ${c.n} does not touch the heap`);
        assert.ok(c.take <= 8 * (2 + 2 * log) + 2, `taking 8 at ${c.n}: ${c.take}`);
        assert.equal(c.idle, 0, `expire with nothing due at ${c.n} visits nothing`);
        assert.ok(c.expire10 <= 10 * (1 + 2 * log), `10 expired at ${c.n}: ${c.expire10} <= ${10 * (1 + 2 * log)}`);
      }
    });

    it('50,000 requests on two levels and two variants, removed in random order, leave the queue consistent', () => {
      const delay = queuePolicy({ timeoutAction: 'delay', defaultTimeoutUs: 5000 });
      const p = policy({ priorityLevels: 2, defaultPriorityLevel: 2, defaultQueuePolicy: delay, priorityQueuePolicy: new Map([[1, delay]]) });
      let t = 1_000_000;
      const clock: Clock = { now: () => t, setTimer: () => () => {} };
      const queue = new RequestQueue(p);
      const requests = ['fp32', 'int8'].flatMap((precision) => [1, 2].map((priority) => makeRequest(INT8_MODEL, 1, { precision, priority })));
      const random = seededRandom(42);
      const all: PendingRequest[] = [];
      for (let i = 0; i < 50_000; i++) {
        t += 0.001;
        const p = new PendingRequest({ request: requests[i % 4]!, signal: new AbortController().signal, clock, resolve: () => {}, reject: () => {}, onAbort: () => {} });
        queue.push(p);
        all.push(p);
        if (i === 20_000) queue.expire(t - 2); // the first ~17,000 have waited 5 ms: DELAY moves them back
      }
      const expected = queue.ordered();
      assert.equal(expected.length, 50_000, 'all queued');
      const stepsBefore = queue.steps;
      const removed = new Set(shuffled(all, random).slice(0, 45_000));
      for (const p of removed) queue.remove(p);
      const perRemove = (queue.steps - stepsBefore) / removed.size;
      assert.ok(perRemove <= 2 + 2 * 17, `a removal took ${perRemove.toFixed(1)} steps on average`);
      const left = expected.filter((p) => !removed.has(p));
      assert.equal(queue.size, 5000, 'size follows');
      assert.deepEqual(queue.ordered(), left, 'the rest keep their order (levels, waiting then delayed)');
      const taken = new Set<PendingRequest>();
      for (const variant of ['fp32', 'int8']) {
        const mine = left.filter((p) => p.request.variant === variant);
        assert.equal([...queue.candidates(variant)].length, mine.length, `${variant}: every queued request is a candidate`);
        const batch = queue.take(variant, 100);
        assert.deepEqual(batch, mine.slice(0, 100), `${variant}: a batch takes the head of its variant`);
        for (const p of batch) taken.add(p);
      }
      // The timeout heap kept only queued requests: far in the future every waiting one is delayed, none lost.
      const { rejected, next } = queue.expire(t + 1e9);
      assert.deepEqual(rejected, [], 'DELAY rejects nothing');
      assert.equal(next, Infinity, 'no timeouts left');
      assert.equal(queue.size, 4800, 'nothing lost');
      const byArrival = (list: readonly PendingRequest[]) => [...list].sort((a, b) => a.enqueuedAt - b.enqueuedAt);
      assert.deepEqual(byArrival(queue.ordered()), byArrival(left.filter((p) => !taken.has(p))), 'exactly the requests neither removed nor taken');
    });
  });
});
