import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { NereidServer } from '../../src/server.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { makeCa, makeLeaf, type Pem } from '../helpers/certificates.js';
import { watchChannel } from '../helpers/channel-watch.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { testConfig } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/**
 * A Kubernetes Secret volume as the kubelet writes it (and so as cert-manager's certificates
 * arrive): the files live in a timestamped directory, `..data` links to it, and each file
 * name links through `..data`. An update writes a new directory and swaps `..data` in one rename.
 */
class SecretVolume {
  private generation = 0;
  constructor(readonly dir: string) {}

  write(files: Record<string, Buffer>): void {
    const version = `..${++this.generation}`;
    mkdirSync(path.join(this.dir, version));
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(this.dir, version, name), data);
    symlinkSync(version, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(path.join('..data', name), path.join(this.dir, name));
      } catch {
        // Already links through ..data.
      }
    }
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }
}

/** A client with a connection of its own (grpc-js would otherwise share one between equal channels). */
function client(port: number, ca: Pem, identity?: Pem): ProtoClient {
  const credentials = grpc.credentials.createSsl(ca.cert, identity?.key ?? null, identity?.cert ?? null);
  return new ProtoClient(`127.0.0.1:${port}`, credentials, { 'grpc.use_local_subchannel_pool': 1 });
}

/** True if a fresh connection with these credentials gets an answer; false if it is refused. */
async function connects(port: number, ca: Pem, identity?: Pem): Promise<boolean> {
  const probe = client(port, ca, identity);
  try {
    await probe.call('ServerLive', {}, { deadlineMs: 5000 });
    return true;
  } catch (err) {
    assert.equal((err as grpc.ServiceError).code, grpc.status.UNAVAILABLE, `a refused handshake is UNAVAILABLE, got ${(err as Error).message}`);
    return false;
  }
}

async function startServer(flags: string[]) {
  const sink = logSink();
  const logging = createLogging({ level: 'info', format: 'json', destination: sink.stream });
  const server = await NereidServer.start(testConfig([EXAMPLE_REPOSITORY], flags), { logger: logging.logger, logControl: logging.settings });
  return { server, lines: sink.lines };
}

describe('TLS on the gRPC endpoint', () => {
  let root: string;
  let ca1: Pem;
  let ca2: Pem;
  let clientCa1: Pem;
  let clientCa2: Pem;

  before(() => {
    root = scratchDirectory('tls');
    ca1 = makeCa(root, 'server-ca-1');
    ca2 = makeCa(root, 'server-ca-2');
    clientCa1 = makeCa(root, 'client-ca-1');
    clientCa2 = makeCa(root, 'client-ca-2');
  });

  it('serves with --grpc-use-ssl, refuses plain text, and picks up a rotated certificate while open connections keep theirs', async () => {
    const volume = new SecretVolume(scratchDirectory('tls-volume'));
    const first = makeLeaf(root, ca1, 'server-1');
    volume.write({ 'tls.crt': first.cert, 'tls.key': first.key });
    const { server, lines } = await startServer([
      '--grpc-use-ssl=true', `--grpc-server-cert=${volume.file('tls.crt')}`, `--grpc-server-key=${volume.file('tls.key')}`, '--grpc-ssl-refresh-secs=1',
    ]);
    const open = client(server.port, ca1);
    const plain = new ProtoClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      assert.deepEqual(await open.call('ServerLive', {}), { live: true });
      const watch = watchChannel(open.inference);
      await assert.rejects(plain.call('ServerLive', {}, { deadlineMs: 5000 }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
      assert.equal(await connects(server.port, ca2), false, 'a client trusting only the next CA is refused before the rotation');

      // Rotation to a certificate from another CA, so that which one a connection got is visible.
      const second = makeLeaf(root, ca2, 'server-2');
      volume.write({ 'tls.crt': second.cert, 'tls.key': second.key });
      const deadline = Date.now() + 15_000;
      while (!(await connects(server.port, ca2))) assert.ok(Date.now() < deadline, 'the rotated certificate was not served within 15 s');
      assert.equal(await connects(server.port, ca1), false, 'new connections no longer get the old certificate');
      assert.ok(lines.some((l) => l['msg'] === 'TLS certificate rotated: new connections use it, open ones keep theirs' && String(l['subject']).includes('server-2')));

      // The connection opened before the rotation still serves, without reconnecting.
      assert.deepEqual(await open.call('ServerLive', {}), { live: true });
      assert.deepEqual(await open.call('ModelReady', { name: 'simple' }), { ready: true });
      assert.deepEqual(watch.changes, [], 'the old connection was never dropped');
      watch.stop();
    } finally {
      open.close();
      plain.close();
      await server.stop();
    }
    assert.ok(server.drainedGracefully);
  });

  it('keeps serving the last good certificate when a rotation is half written or broken, then takes the fixed one', async () => {
    const volume = new SecretVolume(scratchDirectory('tls-volume'));
    const good = makeLeaf(root, ca1, 'server-good');
    volume.write({ 'tls.crt': good.cert, 'tls.key': good.key });
    const { server, lines } = await startServer([
      '--grpc-use-ssl', `--grpc-server-cert=${volume.file('tls.crt')}`, `--grpc-server-key=${volume.file('tls.key')}`, '--grpc-ssl-refresh-secs=1',
    ]);
    try {
      const next = makeLeaf(root, ca2, 'server-next');
      // A certificate with the old key: what a read between two files of a swap can see.
      volume.write({ 'tls.crt': next.cert, 'tls.key': good.key });
      await waitUntil(() => lines.some((l) => l['msg'] === 'TLS certificate files not used; the previous certificate keeps serving'), 'the mismatch is logged', 15_000);
      const warning = lines.find((l) => l['msg'] === 'TLS certificate files not used; the previous certificate keeps serving')!;
      assert.match(String(warning['problem']), /key values mismatch/);
      assert.equal(await connects(server.port, ca1), true, 'the previous certificate still serves');
      assert.equal(await connects(server.port, ca2), false);

      volume.write({ 'tls.crt': next.cert, 'tls.key': next.key });
      const deadline = Date.now() + 15_000;
      while (!(await connects(server.port, ca2))) assert.ok(Date.now() < deadline, 'the fixed certificate was not served within 15 s');
      assert.equal(lines.filter((l) => l['msg'] === 'TLS certificate files not used; the previous certificate keeps serving').length, 1, 'one warning per problem');
    } finally {
      await server.stop();
    }
  });

  it('with --grpc-use-ssl-mutual requires a client certificate from --grpc-root-cert, and a rotated root CA applies to new connections', async () => {
    const volume = new SecretVolume(scratchDirectory('tls-volume'));
    const serverCert = makeLeaf(root, ca1, 'server-mtls');
    volume.write({ 'tls.crt': serverCert.cert, 'tls.key': serverCert.key, 'ca.crt': clientCa1.cert });
    const { server } = await startServer([
      '--grpc-use-ssl-mutual=true', `--grpc-server-cert=${volume.file('tls.crt')}`, `--grpc-server-key=${volume.file('tls.key')}`,
      `--grpc-root-cert=${volume.file('ca.crt')}`, '--grpc-ssl-refresh-secs=1',
    ]);
    const alice = makeLeaf(root, clientCa1, 'client-alice');
    const bob = makeLeaf(root, clientCa2, 'client-bob');
    const open = client(server.port, ca1, alice);
    try {
      assert.equal(await connects(server.port, ca1), false, 'no client certificate: refused');
      assert.equal(await connects(server.port, ca1, bob), false, 'a certificate from another CA: refused');
      assert.deepEqual(await open.call('ServerLive', {}), { live: true });
      const watch = watchChannel(open.inference);

      volume.write({ 'tls.crt': serverCert.cert, 'tls.key': serverCert.key, 'ca.crt': clientCa2.cert });
      const deadline = Date.now() + 15_000;
      while (!(await connects(server.port, ca1, bob))) assert.ok(Date.now() < deadline, 'the rotated client CA was not applied within 15 s');
      assert.equal(await connects(server.port, ca1, alice), false, 'a new connection from the old CA\'s client is refused');
      assert.deepEqual(await open.call('ServerLive', {}), { live: true }, 'the connection opened before keeps working');
      assert.deepEqual(watch.changes, []);
      watch.stop();
    } finally {
      open.close();
      await server.stop();
    }
  });

  it('fails start-up naming the file that cannot be read, or a key that does not match', async () => {
    const dir = scratchDirectory('tls-bad');
    const one = makeLeaf(dir, ca1, 'one');
    const two = makeLeaf(dir, ca1, 'two');
    const { logger, settings } = createLogging({ level: 'silent', format: 'json' });
    const start = async (flags: string[]) => NereidServer.start(testConfig([EXAMPLE_REPOSITORY], flags), { logger, logControl: settings });
    await assert.rejects(start(['--grpc-use-ssl', `--grpc-server-cert=${one.certFile}`, `--grpc-server-key=${path.join(dir, 'missing.key')}`]), {
      name: 'StartupError',
      message: `TLS certificate files rejected: cannot read --grpc-server-key ${path.join(dir, 'missing.key')}: ENOENT`,
    });
    await assert.rejects(start(['--grpc-use-ssl', `--grpc-server-cert=${one.certFile}`, `--grpc-server-key=${two.keyFile}`]), (err: Error) => {
      assert.equal(err.name, 'StartupError');
      assert.match(err.message, /^TLS certificate files rejected: .*key values mismatch/);
      return true;
    });
  });

});
