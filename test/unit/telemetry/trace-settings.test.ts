import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceSettings } from '../../../src/telemetry/trace-settings.js';

const settings = (rate: number, count: number, level: 'OFF' | 'TIMESTAMPS' = 'TIMESTAMPS') =>
  new TraceSettings({ level, rate, count, mode: 'opentelemetry' }, { url: 'http://x/v1/traces' });

const sample = (s: TraceSettings, model: string, n: number) => Array.from({ length: n }, () => s.sampleRoot(model));

describe('TraceSettings: Triton counting sampler and per-model overrides', () => {
  it('traces every rate-th request', () => {
    assert.deepEqual(sample(settings(3, -1), 'm', 7), [false, false, true, false, false, true, false], 'rate 3');
    assert.deepEqual(sample(settings(1, -1), 'm', 3), [true, true, true], 'rate 1 traces all');
  });

  it('stops after count traces and reports what is left', () => {
    const s = settings(1, 2);
    assert.deepEqual(sample(s, 'm', 4), [true, true, false, false], 'count 2');
    assert.equal(s.settings('').count, 0, 'nothing left');
  });

  it('never samples a root request at rate 0 or level OFF', () => {
    assert.deepEqual(sample(settings(0, -1), 'm', 3), [false, false, false], 'rate 0: only propagated traces');
    const off = settings(1, -1, 'OFF');
    assert.equal(off.enabled('m'), false, 'OFF disables');
    assert.deepEqual(sample(off, 'm', 2), [false, false], 'level OFF');
  });

  it('applies a model override with its own counters, and clears it with null', () => {
    const s = settings(1000, -1);
    s.update('a', { rate: 2 });
    assert.deepEqual(sample(s, 'a', 4), [false, true, false, true], 'model a at rate 2');
    assert.deepEqual(sample(s, 'b', 2), [false, false], 'model b keeps the global rate');
    assert.equal(s.settings('a').rate, 2);
    assert.equal(s.settings('b').rate, 1000);
    s.update('a', { level: 'OFF' });
    assert.equal(s.enabled('a'), false, 'per-model OFF');
    assert.equal(s.enabled('b'), true, 'other models unaffected');
    s.update('a', { level: null, rate: null });
    assert.deepEqual(s.settings('a'), s.settings(''), 'cleared: back to the global settings');
  });

  it('updates global settings and restarts the counters', () => {
    const s = settings(1, 1);
    assert.deepEqual(sample(s, 'm', 2), [true, false]);
    s.update('', { count: 2 });
    assert.deepEqual(sample(s, 'm', 3), [true, true, false], 'a new count starts afresh');
    assert.equal(s.settings('').exporter['url'], 'http://x/v1/traces', 'exporter details reported');
  });
});
