import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { makeCa, makeLeaf } from '../helpers/certificates.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/test-server.js';

const PROBE = fileURLToPath(new URL('../../src/health-probe.ts', import.meta.url));

/**
 * Runs the image's HEALTHCHECK command (src/health-probe.ts) and returns its exit status and
 * stderr. Asynchronously: the server under test runs in this process and must keep answering.
 */
async function probe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', PROBE, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, stderr };
}

describe('the health probe (the image\'s HEALTHCHECK)', () => {
  it('exits 0 for a SERVING service and 1, saying why, otherwise', async () => {
    const t = await startTestServer([EXAMPLE_REPOSITORY]);
    try {
      assert.deepEqual(await probe([], { NEREID_GRPC_PORT: String(t.server.port) }), { status: 0, stderr: '' }, 'live, on NEREID_GRPC_PORT');
      assert.equal((await probe(['--port', String(t.server.port), '--service', ''])).status, 0, 'readiness');
      assert.equal((await probe(['--port', String(t.server.port), '--service', 'simple'])).status, 0, 'a ready model');
      const unknown = await probe(['--port', String(t.server.port), '--service', 'nope']);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /^unhealthy: /);
    } finally {
      await t.stop();
    }
    const gone = await probe(['--port', String(t.server.port), '--timeout-ms', '2000']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^unhealthy: 14 UNAVAILABLE/);
  });

  it('speaks TLS with --tls and the CA, and mutual TLS with a client certificate', async () => {
    const dir = scratchDirectory('probe-tls');
    const ca = makeCa(dir, 'ca');
    const server = makeLeaf(dir, ca, 'server');
    const client = makeLeaf(dir, ca, 'client');
    const t = await startTestServer([EXAMPLE_REPOSITORY], {
      flags: ['--grpc-use-ssl-mutual', `--grpc-server-cert=${server.certFile}`, `--grpc-server-key=${server.keyFile}`, `--grpc-root-cert=${ca.certFile}`],
    });
    try {
      const port = String(t.server.port);
      assert.equal((await probe(['--port', port, '--tls', '--ca', ca.certFile, '--cert', client.certFile, '--key', client.keyFile])).status, 0);
      assert.equal((await probe(['--port', port, '--tls', '--ca', ca.certFile, '--timeout-ms', '2000'])).status, 1, 'no client certificate');
      assert.equal((await probe(['--port', port, '--timeout-ms', '2000'])).status, 1, 'plain text');
    } finally {
      await t.stop();
    }
  });
});
