import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shmPath } from '../../../src/shm/shm-key.js';

describe('shmPath', () => {
  it('maps a POSIX shared memory name to its file directly in /dev/shm', () => {
    assert.deepEqual(shmPath('/input_simple'), { path: '/dev/shm/input_simple' });
    assert.deepEqual(shmPath(`/${'k'.repeat(255)}`), { path: `/dev/shm/${'k'.repeat(255)}` });
  });

  it('refuses anything that could name another file', () => {
    for (const key of ['input', '/', '/a/b', '/..', '/.', '//etc/passwd', '/a\0b', '../x']) {
      assert.ok('problem' in shmPath(key), key);
    }
    assert.deepEqual(shmPath(`/${'k'.repeat(256)}`), { problem: 'the name is longer than 255 bytes' });
  });
});
