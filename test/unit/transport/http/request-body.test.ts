import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InputArena } from '../../../../src/transport/common/input-arena.js';
import { readBody, readPooledBody, type PooledBody } from '../../../../src/transport/http/request-body.js';

/** A real node:http server whose handler is swapped per test; the client writes the body in `parts` writes. */
describe('reading request bodies', () => {
  let handle: (request: IncomingMessage) => Promise<unknown>;
  const server = createServer((request, response) => {
    handle(request).then(
      () => response.end('ok'),
      (err: Error) => response.end(err.message),
    );
  });
  before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = (body: Buffer, parts: number, headers: Record<string, string | number> = { 'content-length': body.length }) =>
    new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      const step = Math.ceil(body.length / parts);
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    });
  const body = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) & 0xff));

  it('reads a large body, however chunked, into one pooled buffer that is reused once released', async () => {
    const arena = new InputArena(1 << 20);
    const sent = body(100_000);
    const got: PooledBody[] = [];
    handle = async (request) => got.push(await readPooledBody(request, 1 << 20, arena));
    await send(sent, 5);
    const first = got[0]!;
    assert.deepEqual(first.body, sent);
    assert.equal(first.body.buffer.byteLength, 128 * 1024, 'a 128 KiB pooled buffer, not the chunks joined');
    assert.equal(arena.retainedBytes, 0);
    first.release();
    assert.equal(arena.retainedBytes, 128 * 1024);
    await send(body(90_000), 3);
    assert.equal(got[1]!.body.buffer, first.body.buffer, 'the released buffer is taken again');
    assert.deepEqual(got[1]!.body, body(90_000));
  });

  it('leaves small bodies and bodies without Content-Length out of the pool', async () => {
    const arena = new InputArena(1 << 20);
    const got: PooledBody[] = [];
    handle = async (request) => got.push(await readPooledBody(request, 1 << 20, arena));
    await send(body(1000), 2);
    await send(body(100_000), 4, { 'transfer-encoding': 'chunked' });
    assert.deepEqual(got[0]!.body, body(1000));
    assert.deepEqual(got[1]!.body, body(100_000));
    for (const g of got) g.release();
    assert.equal(arena.retainedBytes, 0);
  });

  it('refuses a body past the limit from its Content-Length, or as its chunks arrive', async () => {
    handle = (request) => readBody(request, 50_000);
    assert.equal(await send(body(60_000), 1), 'request body of 60000 bytes is larger than 50000 bytes (--grpc-max-receive-message-bytes)');
    assert.equal(await send(body(60_000), 3, { 'transfer-encoding': 'chunked' }), 'request body is larger than 50000 bytes (--grpc-max-receive-message-bytes)');
  });
});
