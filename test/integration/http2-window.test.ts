import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/test-server.js';

/**
 * The stream window the server advertises to a fresh HTTP/2 connection. Its first SETTINGS
 * frame carries the default; a widened window follows in a second one.
 */
async function advertisedWindow(port: number): Promise<number | undefined> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    await once(session, 'remoteSettings');
    await Promise.race([once(session, 'remoteSettings'), new Promise((resolve) => setTimeout(resolve, 300))]);
    return session.remoteSettings.initialWindowSize;
  } finally {
    session.close();
  }
}

describe('HTTP/2 receive window', () => {
  it('is widened to --grpc-receive-window (4 MiB by default) on every connection', async () => {
    const t = await startTestServer([EXAMPLE_REPOSITORY]);
    try {
      assert.equal(await advertisedWindow(t.server.port), 4 * 1024 * 1024, 'default window');
    } finally {
      await t.stop();
    }
    const narrow = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--grpc-receive-window', '0'] });
    try {
      assert.equal(await advertisedWindow(narrow.server.port), 65535, "0 keeps HTTP/2's default");
    } finally {
      await narrow.stop();
    }
  });
});
