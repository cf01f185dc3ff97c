/**
 * The V8 growing factor main.ts sets at start-up (src/heap-growth.ts): applied by default, and
 * left alone when the operator gave node the flag.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyHeapGrowth, HEAP_GROWING_PERCENT } from '../../src/heap-growth.js';

function recorder(): { set: (flags: string) => void; calls: string[] } {
  const calls: string[] = [];
  return { set: (flags) => void calls.push(flags), calls };
}

describe('applyHeapGrowth', () => {
  it("sets V8's heap growing percent when node was started without one", () => {
    const { set, calls } = recorder();
    const growth = applyHeapGrowth(['--require', 'x.cjs', '--max-old-space-size=4096'], set);
    assert.deepEqual(growth, { source: 'nereid', percent: HEAP_GROWING_PERCENT });
    assert.deepEqual(calls, [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    assert.ok(HEAP_GROWING_PERCENT >= 100, 'a factor below 2 leaves less room than one external-memory sawtooth');
  });

  for (const flag of ['--heap-growing-percent=50', '--heap_growing_percent=300', '--heap-growing-percent', '--no-heap-growing-percent']) {
    it(`leaves the operator's ${flag} alone`, () => {
      const { set, calls } = recorder();
      assert.deepEqual(applyHeapGrowth(['--trace-gc', flag], set), { source: 'operator', flag });
      assert.deepEqual(calls, []);
    });
  }

  it('does not mistake a longer flag for it', () => {
    const { set, calls } = recorder();
    assert.equal(applyHeapGrowth(['--heap-growing-percentage=5'], set).source, 'nereid');
    assert.equal(calls.length, 1);
  });
});
