import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StagingPool } from '../../../src/scheduler/staging-pool.js';

const MB = 1024 * 1024;

describe('StagingPool', () => {
  it('rounds sizes up to a power of two, at least 1 KiB', () => {
    const pool = new StagingPool(MB);
    assert.equal(pool.take(0).byteLength, 1024);
    assert.equal(pool.take(1).byteLength, 1024);
    assert.equal(pool.take(1024).byteLength, 1024);
    assert.equal(pool.take(1025).byteLength, 2048);
    assert.equal(pool.take(5000).byteLength, 8192);
    assert.equal(pool.take(65536).byteLength, 65536);
  });

  it('starts empty', () => {
    assert.equal(new StagingPool(MB).retainedBytes, 0);
  });

  it('hands a returned buffer out again for a request of the same size class', () => {
    const pool = new StagingPool(MB);
    const buffer = pool.take(3000);
    pool.give(buffer);
    assert.equal(pool.retainedBytes, 4096);
    assert.equal(pool.take(2049), buffer);
    assert.equal(pool.retainedBytes, 0);
    assert.notEqual(pool.take(2049), buffer, 'a buffer is handed out once');
  });

  it('does not hand a buffer of another size class out', () => {
    const pool = new StagingPool(MB);
    const small = pool.take(100);
    pool.give(small);
    const bigger = pool.take(2000);
    assert.notEqual(bigger, small);
    assert.equal(bigger.byteLength, 2048);
    assert.equal(pool.retainedBytes, 1024);
  });

  it('hands buffers out last in, first out', () => {
    const pool = new StagingPool(MB);
    const a = pool.take(10);
    const b = pool.take(10);
    pool.give(a);
    pool.give(b);
    assert.equal(pool.take(10), b);
    assert.equal(pool.take(10), a);
  });

  it('drops buffers whose size is not a size class', () => {
    const pool = new StagingPool(MB);
    pool.give(new ArrayBuffer(1500));
    pool.give(new ArrayBuffer(512));
    assert.equal(pool.retainedBytes, 0);
  });

  it('drops a detached buffer (one transferred away)', () => {
    const pool = new StagingPool(MB);
    const buffer = pool.take(10);
    structuredClone(buffer, { transfer: [buffer] });
    assert.equal(buffer.byteLength, 0);
    pool.give(buffer);
    assert.equal(pool.retainedBytes, 0);
    assert.notEqual(pool.take(10), buffer);
  });

  it('keeps at most maxBytes', () => {
    const pool = new StagingPool(4096);
    pool.give(new ArrayBuffer(2048));
    pool.give(new ArrayBuffer(2048));
    pool.give(new ArrayBuffer(2048));
    assert.equal(pool.retainedBytes, 4096);
    pool.give(new ArrayBuffer(8192));
    assert.equal(pool.retainedBytes, 4096);
  });

  it('keeps nothing with a bound of 0', () => {
    const pool = new StagingPool(0);
    pool.give(pool.take(10));
    assert.equal(pool.retainedBytes, 0);
  });

  it('keeps at most 8 buffers of one size class', () => {
    const pool = new StagingPool(MB);
    for (let i = 0; i < 10; i++) pool.give(new ArrayBuffer(1024));
    assert.equal(pool.retainedBytes, 8 * 1024);
    pool.give(new ArrayBuffer(2048));
    assert.equal(pool.retainedBytes, 8 * 1024 + 2048);
  });

  it('makes room again once buffers are taken', () => {
    const pool = new StagingPool(2048);
    pool.give(new ArrayBuffer(2048));
    pool.take(2048);
    const again = new ArrayBuffer(2048);
    pool.give(again);
    assert.equal(pool.take(2000), again);
  });
});
