import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProfileTrace } from '../../../src/telemetry/profile-trace.js';

describe('buildProfileTrace', () => {
  it('keeps an empty profile valid: a process name and no spans', () => {
    const { trace, summary } = buildProfileTrace('m', [], []);
    assert.deepEqual(trace.traceEvents.map((e) => e.name), ['process_name']);
    assert.equal(summary.executions, 0);
    assert.deepEqual(summary.variants, {});
  });
});
