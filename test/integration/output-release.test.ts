/**
 * Output buffers go back to their instance (and on to its worker with the next run) once the
 * response holding them is written. Over HTTP/REST a response can wait behind another one: a
 * pipelined response behind a large one the client has not read yet. Given back before it is
 * written, its bytes would be gone (the next run on that instance moves them to the worker); this
 * response waits while its instance runs other requests, and must still arrive whole and correct.
 * (Released at once after encoding, the waiting response never arrived: this test failed.)
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ocrRepository } from '../helpers/fixtures.js';
import { binaryBody, HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, pseudoImage, readFloat32 } from '../helpers/tensors.js';

/** An ocr_rec input [batch, 3, 48, width]. */
const input = (seed: number, batch: number, width: number) => ({ shape: [batch, 3, 48, width], data: float32Bytes(pseudoImage(seed, batch * 3 * 48 * width)) });

/** The largest absolute difference between two float32 tensors of the same length. */
function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same number of elements');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** An HTTP/1.1 infer request for ocr_rec with binary input and output, as raw bytes. */
function rawInfer(seed: number, batch: number, width: number): Buffer {
  const { shape, data } = input(seed, batch, width);
  const { body, headerLength } = binaryBody({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP32', shape, data }]);
  const head =
    'POST /v2/models/ocr_rec/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n' +
    `Inference-Header-Content-Length: ${headerLength}\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), body]);
}

/** Reads `count` HTTP/1.1 responses (each with Content-Length) from a socket, in order. */
function readResponses(socket: Socket, count: number): Promise<{ status: number; headers: Map<string, string>; body: Buffer }[]> {
  return new Promise((resolve, reject) => {
    let pending = Buffer.alloc(0);
    const responses: { status: number; headers: Map<string, string>; body: Buffer }[] = [];
    const parse = () => {
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = pending.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const length = Number(headers.get('content-length'));
        if (pending.length < end + 4 + length) return;
        responses.push({ status: Number(statusLine!.split(' ')[1]), headers, body: pending.subarray(end + 4, end + 4 + length) });
        pending = pending.subarray(end + 4 + length);
        if (responses.length === count) {
          socket.off('data', onData);
          resolve(responses);
          return;
        }
      }
    };
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      parse();
    };
    // A response shorter than its Content-Length (its bytes gone) would leave the reader waiting.
    socket.setTimeout(20_000, () => reject(new Error(`no complete response after 20 s of silence (${responses.length} of ${count} read, ${pending.length} bytes pending)`)));
    socket.on('data', onData).on('error', reject).on('end', () => reject(new Error(`connection ended after ${responses.length} of ${count} responses`)));
  });
}

describe('output buffers given back only once their response is written', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    t = await startTestServer([await ocrRepository()]);
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => t.stop());

  /** ocr_rec's output for one image at width 320, over HTTP with nothing else in flight. */
  async function reference(seed: number): Promise<number[]> {
    const { shape, data } = input(seed, 1, 320);
    const reply = await http.inferBinary('ocr_rec', { parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP32', shape, data }]);
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    return readFloat32(reply.binary);
  }

  /** ocr_rec's successful requests so far. */
  async function served(): Promise<number> {
    const stats = (await http.get('/v2/models/ocr_rec/stats')).json.model_stats[0];
    return stats.inference_stats.success.count;
  }

  /**
   * Requests one after another, each a run that sends its instance the buffers it was given
   * back: with one instance busy with the large request, they run on the other one.
   */
  async function runsAfter(seeds: readonly number[]): Promise<void> {
    for (const seed of seeds) assert.ok((await reference(seed)).length > 0);
  }

  it('HTTP: a pipelined response waiting behind an unread 34 MB one arrives intact while the instances run other requests', { timeout: 120_000 }, async () => {
    const expected = await reference(7);
    const socket = connect(t.server.httpPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Nothing is read until the other requests are done: the first response (8 images at width
    // 1280, 4.2 MB each) fills the socket's buffers, so the second waits in the server.
    socket.pause();
    const before = await served();
    socket.write(Buffer.concat([rawInfer(1, 8, 1280), rawInfer(7, 1, 320)]));
    // The small one is computed first (the large one takes 8 images 4 times as wide) and waits.
    for (let waited = 0; (await served()) === before; waited += 10) {
      assert.ok(waited < 20_000, 'the pipelined small request is computed');
      await sleep(10);
    }
    await runsAfter([11, 12, 13, 14]);
    const reading = readResponses(socket, 2);
    socket.resume();
    const [big, small] = await reading;
    socket.destroy();
    assert.equal(big!.status, 200);
    const bigHeader = JSON.parse(big!.body.subarray(0, Number(big!.headers.get('inference-header-content-length'))).toString());
    assert.equal(bigHeader.outputs[0].shape[0], 8);
    assert.equal(small!.status, 200);
    const headerLength = Number(small!.headers.get('inference-header-content-length'));
    const header = JSON.parse(small!.body.subarray(0, headerLength).toString());
    assert.deepEqual(header.outputs[0].shape, [1, expected.length / 6625, 6625]);
    const got = readFloat32(small!.body.subarray(headerLength));
    assert.ok(maxDifference(got, expected) < 1e-4, 'the waiting response holds its own outputs');
  });
});
