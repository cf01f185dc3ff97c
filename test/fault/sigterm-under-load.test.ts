import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { nereid } from '../helpers/nereid-process.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';
import { faultScale } from './fault-scale.js';

/**
 * SIGTERM while clients keep the server busy: every request the server accepted is
 * answered correctly before it exits, and every other one is refused as a server going
 * away is: UNAVAILABLE "Server is shutting down", or no connection. Nothing is cancelled,
 * cut off or answered INTERNAL, and the process exits 0 without cancelling calls at the
 * exit timeout. 32 clients on 4 connections, closed loop, until they are refused.
 */
const CLIENTS = 32;
const CONNECTIONS = 4;
const LOOPBACK = ['--grpc-port', '0', '--grpc-address', '127.0.0.1', '--http-port', '0', '--http-address', '127.0.0.1', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json'];

const request = (seed: number) => ({
  model_name: 'simple',
  inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
  raw_input_contents: [int32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int32Bytes(new Array(16).fill(2))],
});

/** A refusal that says the request was never taken: the server is stopping, or it is gone. */
function refusedBeforeAccepted(error: { code?: number; details?: string; metadata?: { get(key: string): unknown[] } }): boolean {
  if (error.code !== 14) return false; // UNAVAILABLE
  if (error.metadata?.get('nereid-error-id')[0] === 'SERVER_STOPPING') return true;
  return /No connection established|ECONNREFUSED|connect ECONN|Connection refused/.test(error.details ?? '');
}

describe(`SIGTERM under load: ${CLIENTS} clients on ${CONNECTIONS} connections`, () => {
  it('answers every accepted request, refuses the rest as a stopping server, and exits 0', { timeout: 120_000 }, async (test) => {
    const server = nereid(['--model-repository', EXAMPLE_REPOSITORY, ...LOOPBACK]);
    const listening = await server.waitForLog('gRPC endpoint listening');
    await server.waitForLog('server is ready');
    const target = `127.0.0.1:${listening['port'] as number}`;
    const clients = Array.from({ length: CONNECTIONS }, () => new ProtoClient(target));
    let ok = 0;
    let refused = 0;
    const lost: string[] = [];
    const worker = async (id: number) => {
      const client = clients[id % CONNECTIONS]!;
      for (let n = 0; ; n++) {
        const seed = id * 1_000_000 + n;
        try {
          const reply = await client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', request(seed), { deadlineMs: 60_000 });
          if (readInt32(reply.raw_output_contents[0]!)[15] !== seed + 17) lost.push(`wrong answer for ${seed}`);
          ok += 1;
        } catch (err) {
          const error = err as { code?: number; details?: string; metadata?: { get(key: string): unknown[] } };
          if (refusedBeforeAccepted(error)) refused += 1;
          else lost.push(`${error.code} ${String(error.metadata?.get('nereid-error-id')[0])} ${error.details ?? String(err)}`);
          return; // a client stops at its first refusal, as a client of a terminating pod would
        }
      }
    };
    const workers = Array.from({ length: CLIENTS }, (_, id) => worker(id));
    await waitUntil(() => ok >= 2000 * faultScale(), 'the load is running', 60_000);
    server.child.kill('SIGTERM');
    await Promise.all(workers);
    const [code] = await server.exited;
    for (const client of clients) client.close();
    test.diagnostic(`${ok} answered, ${refused} refused, ${lost.length} lost`);

    assert.deepEqual(lost, [], 'no accepted request was lost');
    assert.equal(refused, CLIENTS, 'each client stopped at a refusal');
    assert.equal(code, 0, `exit status (stderr: ${server.stderr()})`);
    const messages = server.entries.map((e) => e['msg']);
    assert.ok(messages.includes('shutting down: refusing new requests, finishing those in flight'));
    assert.ok(!messages.includes('calls still open after the exit timeout were cancelled'), 'nothing was cancelled at the exit timeout');
    assert.equal(messages.at(-1), 'shutdown complete');
  });
});
