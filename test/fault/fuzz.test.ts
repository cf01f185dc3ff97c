import assert from 'node:assert/strict';
import { connectivityState } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { MAX_STATUS_MESSAGE_BYTES } from '../../src/transport/grpc/status.js';
import { watchChannel } from '../helpers/channel-watch.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { RawClient, type RawOutcome } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';
import { faultScale } from './fault-scale.js';
import { FuzzMessages } from './fuzz-messages.js';

/**
 * Issue 16: no message a client can send may stall the server, crash it, drop other
 * clients' calls, or be answered as a server fault. A few thousand ModelInfer messages
 * from a fixed seed (structured mutations of valid requests and byte-level damage), 8 in
 * flight on one connection, each with a 20 s deadline, while a second client asks
 * ServerLive and a correct inference every 50 ms. Fails on any missed deadline, any
 * INTERNAL (the models fuzzed cannot fail at run time on input that validation lets
 * through), any status that is not from the error catalogue (every one carries
 * nereid-error-id, but gRPC's own refusal of an oversized message), a status message
 * past what HTTP/2 peers accept, a dropped connection, or a server that is not live and
 * correct afterwards. NEREID_FAULT_SCALE=10 sends ten times as many.
 */
const SEED = 0x16f022;
const MESSAGES = 3000 * faultScale();
const IN_FLIGHT = 8;
const DEADLINE_MS = 20_000;

/** Codes a client mistake may get: a refusal or lookup failure, never a server fault. */
const EXPECTED = new Set(['OK', 'INVALID_ARGUMENT', 'NOT_FOUND', 'UNAVAILABLE', 'UNIMPLEMENTED', 'RESOURCE_EXHAUSTED']);

const simple = {
  model_name: 'simple',
  inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
  raw_input_contents: [int32Bytes(Array.from({ length: 16 }, (_, i) => i)), int32Bytes(new Array(16).fill(5))],
};

describe(`fuzz: ${MESSAGES} ModelInfer messages from seed ${SEED.toString(16)}, ${IN_FLIGHT} in flight`, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--grpc-max-receive-message-bytes', '1048576'] });
  });
  after(async () => {
    await t.stop();
  });

  it('answers every message within its deadline with a catalogued status, never INTERNAL; other clients keep being served', async (test) => {
    const raw = new RawClient(`127.0.0.1:${t.server.port}`);
    await raw.call('ServerLive', new Uint8Array(0));
    const rawWatch = watchChannel(raw.client);
    await t.client.call('ServerLive', {});
    const probeWatch = watchChannel(t.client.inference);

    // The other client: a liveness probe and a correct inference, one after the other, all along.
    let fuzzing = true;
    const probe = { answered: 0, failed: [] as string[] };
    const prober = (async () => {
      while (fuzzing) {
        try {
          await t.client.call('ServerLive', {}, { deadlineMs: DEADLINE_MS });
          const reply = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simple, { deadlineMs: DEADLINE_MS });
          assert.deepEqual(readInt32(reply.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => i + 5));
          probe.answered += 1;
        } catch (err) {
          probe.failed.push(String(err));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const messages = new FuzzMessages(SEED);
    const counts: Record<string, number> = {};
    const problems: string[] = [];
    const check = (message: Uint8Array, outcome: RawOutcome, index: number) => {
      counts[outcome.code] = (counts[outcome.code] ?? 0) + 1;
      const where = `message ${index} (${message.length} bytes, starts ${Buffer.from(message.subarray(0, 24)).toString('hex')})`;
      if (!EXPECTED.has(outcome.code)) problems.push(`${where}: ${outcome.code} ${outcome.details}`);
      if (outcome.code !== 'OK' && outcome.code !== 'RESOURCE_EXHAUSTED' && outcome.errorId === undefined) problems.push(`${where}: ${outcome.code} without nereid-error-id: ${outcome.details}`);
      if (outcome.code === 'UNIMPLEMENTED' && outcome.errorId !== 'DECOUPLED_UNARY') problems.push(`${where}: ${outcome.code} ${outcome.details}`);
      if (Buffer.byteLength(encodeURI(outcome.details.replace(/[\uD800-\uDFFF]/g, '?'))) > MAX_STATUS_MESSAGE_BYTES) problems.push(`${where}: a status message of ${outcome.details.length} characters`);
    };
    let next = 0;
    const worker = async () => {
      while (next < MESSAGES) {
        const index = next++;
        const message = messages.next();
        check(message, await raw.call('ModelInfer', message, DEADLINE_MS), index);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    fuzzing = false;
    await prober;
    test.diagnostic(`answers: ${JSON.stringify(counts)}; the other client was served ${probe.answered} times`);

    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems; answers: ${JSON.stringify(counts)}`);
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), MESSAGES);
    assert.ok((counts['OK'] ?? 0) > 0 && (counts['INVALID_ARGUMENT'] ?? 0) > MESSAGES / 4, `the fuzz reaches both valid and invalid requests: ${JSON.stringify(counts)}`);
    assert.deepEqual(probe.failed, [], 'the other client was served all along');
    assert.ok(probe.answered > 0);
    assert.deepEqual(rawWatch.changes, [], 'the fuzzing connection was never dropped');
    assert.deepEqual(probeWatch.changes, [], "the other client's connection was never dropped");
    rawWatch.stop();
    probeWatch.stop();
    assert.equal(raw.client.getChannel().getConnectivityState(false), connectivityState.READY);
    raw.close();

    // Live, correct, and nothing left behind in the queues or instances.
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    assert.deepEqual(await t.client.call('ServerReady', {}), { ready: true });
    const reply = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simple);
    assert.deepEqual(readInt32(reply.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => i + 5));
    for (const model of ['simple', 'simple_identity']) {
      const servable = t.server.registry.get(model, '').servable;
      assert.equal(servable.pending(), 0, `${model}: nothing queued`);
      assert.ok(servable.instances().every((i) => i.state === 'idle' && i.restarts === 0), `${model}: instances idle, none replaced`);
    }
  });
});
