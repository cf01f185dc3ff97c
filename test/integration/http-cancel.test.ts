import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { testRepository } from '../helpers/fixtures.js';
import { HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** A `slow` request as JSON: OUTPUT0 = INPUT0 after `iterations` loop steps (~0.03 ms each). */
const slowJson = (iterations: number, seed = 0) => ({
  inputs: [
    { name: 'INPUT0', datatype: 'FP32', shape: [1, 16], data: range(16, (i) => seed + i) },
    { name: 'DELAY', datatype: 'INT64', shape: [1, 1], data: [iterations] },
  ],
});

describe('HTTP: a client that disconnects mid-request', () => {
  let t: TestServer;
  let http: HttpClient;
  const slow = () => t.server.registry.get('slow', '').servable;
  const executions = () => slow().instances().reduce((sum, i) => sum + i.executions, 0);

  before(async () => {
    t = await startTestServer([await testRepository()]);
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => {
    await t.stop();
  });

  it('cancels its queued request: never computed, counted as a CANCELED failure, the server still serving', async () => {
    const before = executions();
    const canceledBefore = slow().statistics().failures.CANCELED;
    const failBefore = (await http.get('/v2/models/slow/stats')).json.model_stats[0].inference_stats.fail.count as number;
    // Both instances busy, so the next request waits in the queue.
    const blockers = [http.post('/v2/models/slow/infer', slowJson(30_000, 1)), http.post('/v2/models/slow/infer', slowJson(30_000, 2))];
    await waitUntil(() => slow().instances().every((i) => i.state === 'busy'), 'both instances run a blocking request');

    const body = JSON.stringify(slowJson(10, 3));
    const abandoned = httpRequest(`${http.base}/v2/models/slow/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const outcome = new Promise<string>((resolve) => {
      abandoned.once('response', () => resolve('answered'));
      abandoned.once('error', (err) => resolve(err.message));
    });
    abandoned.end(body);
    await waitUntil(() => slow().pending() === 1, 'the request waits in the queue');
    abandoned.destroy();
    assert.equal(await outcome, 'socket hang up', 'the client never got an answer');

    await waitUntil(() => slow().pending() === 0, 'the cancelled request leaves the queue');
    await waitUntil(() => slow().statistics().failures.CANCELED === canceledBefore + 1, 'the request is counted as cancelled');
    for (const blocker of await Promise.all(blockers)) assert.equal(blocker.status, 200, 'the requests still connected are answered');
    assert.equal(executions() - before, 2, 'only the two blocking requests ran');

    const stats = (await http.get('/v2/models/slow/stats')).json.model_stats[0].inference_stats;
    assert.equal(stats.fail.count, failBefore + 1, 'statistics count it as a failure');
    const metrics = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
    assert.match(metrics, /nv_inference_request_failure\{[^}]*model="slow"[^}]*reason="CANCELED"[^}]*\} 1\b/);

    const reply = await http.post('/v2/models/slow/infer', slowJson(10, 4));
    assert.equal(reply.status, 200, 'the server still serves');
    assert.deepEqual(reply.json.outputs[0].data, range(16, (i) => 4 + i));
  });
});
