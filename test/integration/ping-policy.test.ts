import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A bare HTTP/2 connection to the server, recording the pings and GOAWAY the server sends. */
async function rawConnection(port: number) {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`);
  const seen = { pings: 0, goaway: undefined as { code: number; data: string } | undefined, closed: false };
  session.on('ping', () => seen.pings++);
  session.on('goaway', (code, _last, data) => (seen.goaway = { code, data: data?.toString() ?? '' }));
  session.on('close', () => (seen.closed = true));
  session.on('error', () => {});
  await new Promise<void>((resolve) => session.once('connect', () => resolve()));
  const ping = () => new Promise<boolean>((resolve) => session.ping((err) => resolve(err === null)));
  /** Opens a gRPC call whose request never ends, so the server sees a call in flight. */
  const openCall = (): ClientHttp2Stream => {
    const stream = session.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ServerLive', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => {});
    return stream;
  };
  return { session, seen, ping, openCall };
}

async function withServer(flags: string[], body: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer([EXAMPLE_REPOSITORY], { flags });
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

/** Lets `periods` keepalive periods go by on the event loop; used only to show that nothing happens in them. */
const periods = (count: number, ms: number) => new Promise((resolve) => setTimeout(resolve, count * ms));

describe('HTTP/2 pings, as gRPC core (and Triton) police them', () => {
  it('answers a client that pings an idle connection too often with GOAWAY ENHANCE_YOUR_CALM "too_many_pings", after Triton\'s 2 strikes', async () => {
    await withServer([], async ({ server, client }) => {
      const { seen, ping } = await rawConnection(server.port);
      assert.equal(await ping(), true, 'the first ping is allowed');
      assert.equal(await ping(), true, 'strike 1');
      assert.equal(await ping(), true, 'strike 2');
      await ping();
      await waitUntil(() => seen.goaway !== undefined, 'the server sends GOAWAY');
      assert.deepEqual(seen.goaway, { code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings' });
      await waitUntil(() => seen.closed, 'the connection closes');
      assert.deepEqual(await client.call('ServerLive', {}), { live: true }, 'other connections are untouched');
    });
  });

  it('accepts pings as often as configured with --grpc-keepalive-permit-without-calls and a short --grpc-http2-min-recv-ping-interval-without-data', async () => {
    await withServer(['--grpc-keepalive-permit-without-calls=true', '--grpc-http2-min-recv-ping-interval-without-data=0'], async ({ server }) => {
      const { session, seen, ping } = await rawConnection(server.port);
      for (let i = 0; i < 10; i++) assert.equal(await ping(), true);
      assert.equal(seen.goaway, undefined);
      session.close();
    });
  });

  it('never closes a connection for pings with --grpc-http2-max-ping-strikes=0', async () => {
    await withServer(['--grpc-http2-max-ping-strikes=0'], async ({ server }) => {
      const { session, seen, ping } = await rawConnection(server.port);
      for (let i = 0; i < 10; i++) assert.equal(await ping(), true);
      assert.equal(seen.goaway, undefined);
      session.close();
    });
  });

  it('counts pings during a call against --grpc-http2-min-recv-ping-interval-without-data, not the idle limit', async () => {
    await withServer(['--grpc-http2-min-recv-ping-interval-without-data=0'], async ({ server }) => {
      const { session, seen, ping, openCall } = await rawConnection(server.port);
      const call = openCall();
      for (let i = 0; i < 10; i++) assert.equal(await ping(), true);
      assert.equal(seen.goaway, undefined, 'a call is in flight, so pings need only the configured interval');
      call.close();
      session.close();
    });
  });

  it('sends keepalive pings only while a call is open, unless --grpc-keepalive-permit-without-calls', async () => {
    const keepalive = 50;
    await withServer([`--grpc-keepalive-time=${keepalive}`, '--grpc-http2-max-pings-without-data=0'], async ({ server }) => {
      const { session, seen, openCall } = await rawConnection(server.port);
      await periods(10, keepalive);
      assert.equal(seen.pings, 0, 'no call open: no keepalive pings');
      const call = openCall();
      await waitUntil(() => seen.pings >= 2, 'keepalive pings while the call is open');
      call.close();
      session.close();
    });
    await withServer([`--grpc-keepalive-time=${keepalive}`, '--grpc-keepalive-permit-without-calls', '--grpc-http2-max-pings-without-data=0'], async ({ server }) => {
      const { session, seen } = await rawConnection(server.port);
      await waitUntil(() => seen.pings >= 2, 'keepalive pings on an idle connection');
      session.close();
    });
  });

  it('stops pinging after --grpc-http2-max-pings-without-data until a call sends data again', async () => {
    const keepalive = 50;
    await withServer([`--grpc-keepalive-time=${keepalive}`, '--grpc-keepalive-permit-without-calls', '--grpc-http2-max-pings-without-data=2'], async ({ server }) => {
      const { session, seen, openCall } = await rawConnection(server.port);
      await waitUntil(() => seen.pings === 2, 'two keepalive pings');
      await periods(10, keepalive);
      assert.equal(seen.pings, 2, 'no third ping without data');
      const call = openCall();
      await waitUntil(() => seen.pings >= 3, 'pings resume once a call starts');
      call.close();
      session.close();
    });
  });
});
