import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallError } from '../../scripts/lib/grpc-client.js';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, int32Bytes, int64Bytes, readFloat32, readInt32 } from '../helpers/tensors.js';

/**
 * Copies of the `slow` fixture with one instance: with the given dynamic_batching block,
 * or without one (`null`: Triton's default scheduler, first in, first out).
 */
function overloadRepository(slowDir: string): string {
  const dir = scratchDirectory('overload');
  const base = readFileSync(path.join(slowDir, 'config.pbtxt'), 'utf8');
  const add = (name: string, batching: string | null) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    copyFileSync(path.join(slowDir, '1', 'model.onnx'), path.join(dir, name, '1', 'model.onnx'));
    const config = base.replace('name: "slow"', `name: "${name}"`);
    const scheduling = batching === null ? '' : `dynamic_batching { ${batching} }\n`;
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `${config}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n${scheduling}`);
  };
  // Its own max_queue_size wins over the server's --max-queue-size (1024 by default).
  add('open', 'default_queue_policy { max_queue_size: 5000 }');
  add('bounded', 'default_queue_policy { max_queue_size: 64 }');
  add('timed', 'default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 100000 }');
  add('defaults', '');
  add('fifo', null);
  return dir;
}

/** The server's queue bounds in these tests: the default count, and 8 MiB of queued messages. */
const MAX_QUEUE_SIZE = 1024;
const MAX_QUEUE_BYTES = 8 * 1024 * 1024;

function slowRequest(model: string, iterations: number, seed: number) {
  return {
    model_name: model,
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
      { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
    ],
    raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([iterations])],
  };
}

/** How one call ended: its gRPC code name and details, and its output when OK. */
interface Outcome {
  readonly code: string;
  readonly details: string;
  readonly output?: number[];
}

const BLOCK = 20_000; // about half a second of loop iterations on one thread

describe('overload: thousands of requests behind a busy instance, against the real server', () => {
  let t: TestServer;

  before(async () => {
    const tests = await testRepository();
    t = await startTestServer([EXAMPLE_REPOSITORY, overloadRepository(path.join(tests, 'slow'))], { flags: ['--max-queue-bytes', String(MAX_QUEUE_BYTES)] });
  });
  after(async () => {
    await t.stop();
  });

  const servable = (model: string) => t.server.registry.get(model, '').servable;

  /** Resolves once the model's only instance is running something. */
  const whenBusy = async (model: string) => {
    for (let i = 0; i < 200 && servable(model).instances()[0]!.state !== 'busy'; i++) await sleep(10);
    assert.equal(servable(model).instances()[0]!.state, 'busy', `${model} should be running the blocking request`);
  };

  /** Sends `count` one-iteration requests at once; `deadlineMs`/`cancel` per call index. */
  function burst(model: string, count: number, options: { deadlineMs?: (i: number) => number | undefined; cancel?: (i: number) => boolean } = {}) {
    const cancels: (() => void)[] = [];
    const outcomes = Array.from({ length: count }, (_, i) => {
      const deadlineMs = options.deadlineMs?.(i);
      const { call, result } = t.client.start<{ raw_output_contents: Buffer[] }>('ModelInfer', slowRequest(model, 1, i), deadlineMs === undefined ? {} : { deadlineMs });
      if (options.cancel?.(i) === true) cancels.push(() => call.cancel());
      return result.then(
        (reply): Outcome => ({ code: 'OK', details: '', output: readFloat32(reply.raw_output_contents[0]!) }),
        (err: CallError): Outcome => ({ code: status[err.code] ?? String(err.code), details: err.details }),
      );
    });
    return { outcomes: Promise.all(outcomes), cancelAll: () => cancels.forEach((cancel) => cancel()) };
  }

  /** The queue empties (wait on state), the server is live and `simple` computes correctly. */
  async function assertHealthyAfter(model: string): Promise<void> {
    for (let i = 0; i < 500 && servable(model).pending() > 0; i++) await sleep(20);
    assert.equal(servable(model).pending(), 0, `${model}: the queue drained`);
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true }, 'the server is live');
    const reply = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
      ],
      raw_input_contents: [int32Bytes(Array.from({ length: 16 }, (_, i) => i)), int32Bytes(new Array(16).fill(3))],
    });
    assert.deepEqual(readInt32(reply.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => i + 3), 'simple still adds');
    const blocker = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', slowRequest(model, 1, 500));
    assert.deepEqual(readFloat32(blocker.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => 500 + i), `${model} still answers`);
  }

  const tally = (outcomes: readonly Outcome[]) => {
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.code] = (counts[o.code] ?? 0) + 1;
    return counts;
  };

  // Deadlines that pass and cancellations each send an RST_STREAM. A Node server (nghttp2
  // since its HTTP/2 rapid-reset fix) answers more than 1,000 of them in a burst on one
  // connection by closing it with INTERNAL_ERROR, failing every call on it; this test keeps
  // below that, since it is about the queue.
  it('a queue of 5,000 (its config): 3,000 requests, 300 with a short deadline and 300 cancelled; the rest answered correctly, none INTERNAL', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('open', BLOCK, 0));
    await whenBusy('open');
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, servable('open').pending())), 5);
    const { outcomes, cancelAll } = burst('open', 3000, { deadlineMs: (i) => (i % 10 === 0 ? 200 : undefined), cancel: (i) => i % 10 === 1 });
    // Cancel once the server holds much of the burst, so the cancellations reach queued requests.
    for (let i = 0; i < 500 && servable('open').pending() < 1000; i++) await sleep(5);
    cancelAll();
    const results = await outcomes;
    clearInterval(watch);
    await blocker;
    const counts = tally(results);
    assert.ok(peak >= 1000, `the queue held a burst (peak ${peak})`);
    results.forEach((o, i) => {
      if (i % 10 === 0) assert.ok(o.code === 'OK' || o.code === 'DEADLINE_EXCEEDED', `call ${i} with a deadline: ${o.code} ${o.details}`);
      else if (i % 10 === 1) assert.ok(o.code === 'OK' || o.code === 'CANCELLED', `call ${i} cancelled: ${o.code} ${o.details}`);
      else {
        assert.equal(o.code, 'OK', `call ${i} without deadline: ${o.details}`);
        assert.deepEqual(o.output, Array.from({ length: 16 }, (_, k) => i + k), `call ${i} gets its own output`);
      }
    });
    assert.ok((counts['DEADLINE_EXCEEDED'] ?? 0) > 0, `some deadlines passed in the queue: ${JSON.stringify(counts)}`);
    await assertHealthyAfter('open');
  });

  it('max_queue_size 64: a burst of 2,000 is refused with UNAVAILABLE past the bound, and what was accepted is answered', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('bounded', BLOCK, 0));
    await whenBusy('bounded');
    const results = await burst('bounded', 2000).outcomes;
    await blocker;
    const counts = tally(results);
    assert.deepEqual(Object.keys(counts).sort(), ['OK', 'UNAVAILABLE'], `only answers and refusals: ${JSON.stringify(counts)}`);
    assert.ok(counts['OK']! >= 64, `at least the 64 queued were answered: ${JSON.stringify(counts)}`);
    for (const o of results) if (o.code === 'UNAVAILABLE') assert.match(o.details, /Exceeds maximum queue size$/);
    await assertHealthyAfter('bounded');
  });

  it('REJECT after 100 ms: a burst of 2,000 behind a busy instance is refused with UNAVAILABLE, never INTERNAL', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('timed', BLOCK, 0));
    await whenBusy('timed');
    const results = await burst('timed', 2000).outcomes;
    await blocker;
    const counts = tally(results);
    assert.ok(Object.keys(counts).every((code) => code === 'OK' || code === 'UNAVAILABLE'), `only answers and refusals: ${JSON.stringify(counts)}`);
    const timedOut = results.filter((o) => o.details === 'Request timeout expired').length;
    assert.ok(timedOut > 0, `some timed out in the queue: ${JSON.stringify(counts)}`);
    // Past the server's default bound (the config sets no max_queue_size), the rest were refused at once.
    for (const o of results) if (o.code === 'UNAVAILABLE' && o.details !== 'Request timeout expired') assert.match(o.details, /Exceeds maximum queue size$/);
    await assertHealthyAfter('timed');
  });

  /** Sends `count` requests behind a busy instance of `model`; returns the outcomes and the longest queue seen. */
  async function behindBusyInstance(model: string, count: number): Promise<{ results: Outcome[]; peak: number }> {
    const blocker = t.client.call('ModelInfer', slowRequest(model, BLOCK, 0));
    await whenBusy(model);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, servable(model).pending())), 2);
    const results = await burst(model, count).outcomes;
    clearInterval(watch);
    await blocker;
    return { results, peak };
  }

  for (const [model, what] of [['defaults', 'the dynamic batcher'], ['fifo', 'the default (FIFO) scheduler']] as const) {
    it(`no max_queue_size in the config (${what}): the server's bound of ${MAX_QUEUE_SIZE} refuses the rest of a burst of 3,000 at once`, async () => {
      const { results, peak } = await behindBusyInstance(model, 3000);
      const counts = tally(results);
      assert.deepEqual(Object.keys(counts).sort(), ['OK', 'UNAVAILABLE'], `only answers and refusals: ${JSON.stringify(counts)}`);
      assert.ok(peak <= MAX_QUEUE_SIZE, `the queue never held more than ${MAX_QUEUE_SIZE} (peak ${peak})`);
      assert.ok((counts['UNAVAILABLE'] ?? 0) > 0, `some were refused: ${JSON.stringify(counts)}`);
      results.forEach((o, i) => {
        if (o.code === 'UNAVAILABLE') assert.equal(o.details, '[request id: <id_unknown>] Exceeds maximum queue size');
        else assert.deepEqual(o.output, Array.from({ length: 16 }, (_, k) => i + k), `call ${i} gets its own output`);
      });
      await assertHealthyAfter(model);
    });
  }

  it(`--max-queue-bytes: requests of 64 KiB each stop queuing at ${MAX_QUEUE_BYTES / 2 ** 20} MiB, counted by their size on the wire`, async () => {
    // Each message carries 64 KiB in a field the server does not know: decoding skips it, but
    // the request's tensors are views into the message, so holding it holds all of it.
    const padded = (seed: number) => {
      const request = ModelInferRequest.encode(
        ModelInferRequest.fromPartial({
          modelName: 'defaults',
          inputs: [
            { name: 'INPUT0', datatype: 'FP32', shape: [1n, 16n] },
            { name: 'DELAY', datatype: 'INT64', shape: [1n, 1n] },
          ],
          rawInputContents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([1])],
        }),
      ).finish();
      const unknownField = Buffer.concat([Buffer.from([0xa2, 0x06, 0x80, 0x80, 0x04]), Buffer.alloc(65536)]); // field 100, 65,536 bytes
      return Buffer.concat([request, unknownField]);
    };
    const raw = new RawClient(`127.0.0.1:${t.server.port}`);
    try {
      const blocker = t.client.call('ModelInfer', slowRequest('defaults', BLOCK, 0));
      await whenBusy('defaults');
      let peak = 0;
      const watch = setInterval(() => (peak = Math.max(peak, servable('defaults').pending())), 2);
      const results = await Promise.all(Array.from({ length: 400 }, (_, i) => raw.call('ModelInfer', padded(i))));
      clearInterval(watch);
      await blocker;
      const refused = results.filter((o) => o.code === 'UNAVAILABLE');
      assert.equal(refused.length + results.filter((o) => o.code === 'OK').length, 400, 'only answers and refusals');
      const perRequest = padded(0).length;
      assert.ok(peak <= Math.floor(MAX_QUEUE_BYTES / perRequest), `at most ${MAX_QUEUE_BYTES} bytes were queued (peak ${peak} requests of ${perRequest} bytes)`);
      assert.ok(refused.length > 0, 'some were refused');
      for (const o of refused) {
        assert.match(o.details, new RegExp(`^\\[request id: <id_unknown>\\] Exceeds maximum queue size: \\d+ bytes of requests queued, and this one has ${perRequest}; the most is ${MAX_QUEUE_BYTES} \\(--max-queue-bytes\\)$`));
      }
    } finally {
      raw.close();
    }
    await assertHealthyAfter('defaults');
  });
});
