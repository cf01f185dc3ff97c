import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelSource } from '../../../src/core/cancel-signal.js';

describe('CancelSource', () => {
  it('runs each listener once with the reason set, then ignores later aborts and listeners', () => {
    const source = new CancelSource();
    const seen: string[] = [];
    source.addEventListener('abort', () => seen.push(`a:${String(source.reason)}`));
    source.addEventListener('abort', () => seen.push('b'));
    assert.equal(source.aborted, false);
    source.abort('deadline');
    source.abort('again');
    source.addEventListener('abort', () => seen.push('late'));
    assert.equal(source.aborted, true);
    assert.equal(source.reason, 'deadline');
    assert.deepEqual(seen, ['a:deadline', 'b']);
  });

  it('does not run a removed listener, whether it was alone or among many', () => {
    for (const count of [1, 3]) {
      const source = new CancelSource();
      const seen: number[] = [];
      const listeners = Array.from({ length: count }, (_, i) => () => seen.push(i));
      for (const l of listeners) source.addEventListener('abort', l);
      source.removeEventListener('abort', listeners[0]!);
      source.abort(undefined);
      assert.deepEqual(seen, listeners.slice(1).map((_, i) => i + 1));
    }
  });

  it('keeps one entry for a listener added twice', () => {
    const source = new CancelSource();
    let runs = 0;
    const listener = () => (runs += 1);
    source.addEventListener('abort', listener);
    source.addEventListener('abort', listener);
    source.abort(undefined);
    assert.equal(runs, 1);
  });
});
