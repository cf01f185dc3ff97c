import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace, type Context } from '@opentelemetry/api';
import type { TraceSampler } from '../../../src/config/server-config.js';
import { RequestSampler } from '../../../src/telemetry/request-sampler.js';
import { TraceSettings } from '../../../src/telemetry/trace-settings.js';

/** Trace ids on either side of any ratio between 0 and 1 (TraceIdRatioBased folds the id into 32 bits). */
const LOW_ID = '00000000000000000000000000000001';
const HIGH_ID = 'ffffffff000000000000000000000000';

const settings = (rate: number, count = -1) => new TraceSettings({ level: 'TIMESTAMPS', rate, count, mode: 'opentelemetry' }, {});
const policy = (name: string, parentBased: boolean, ratio: number): TraceSampler => ({ name, parentBased, ratio });

/** A caller's remote trace context, sampled or not. */
function caller(traceId: string, sampled: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169242424', traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

/** Whether the sampler records a request's server span; its trace id is the caller's, as in startSpan. */
function traced(sampler: RequestSampler, context: Context = ROOT_CONTEXT, traceId = trace.getSpanContext(context)?.traceId ?? LOW_ID, model = 'm'): boolean {
  const result = sampler.shouldSample(context, traceId, 'inference.GRPCInferenceService/ModelInfer', SpanKind.SERVER, { 'nereid.model.name': model }, []);
  return result.decision === SamplingDecision.RECORD_AND_SAMPLED;
}

describe('RequestSampler: OTEL_TRACES_SAMPLER, then Triton rate and count', () => {
  it("unset (parentbased_always_on): Triton's sampling, a caller's flag decides for its request", () => {
    const sampler = new RequestSampler(policy('parentbased_always_on', true, 1), settings(3));
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => traced(sampler)), [false, false, true, false, false, true], 'every 3rd root');
    assert.equal(traced(sampler, caller(HIGH_ID, true)), true, 'sampled caller: traced, whatever the rate');
    assert.equal(traced(sampler, caller(LOW_ID, false)), false, 'unsampled caller: not traced');
  });

  it('count is used up only by roots the ratio let through', () => {
    const s = settings(1, 2);
    const sampler = new RequestSampler(policy('traceidratio', false, 0.5), s);
    assert.equal(traced(sampler, ROOT_CONTEXT, HIGH_ID), false, 'outside the ratio');
    assert.equal(s.settings('').count, 2, 'count untouched');
    assert.deepEqual([traced(sampler), traced(sampler), traced(sampler)], [true, true, false], 'count 2 then stop');
  });

  it('traceidratio decides on the trace id, ignoring the caller flag; parentbased_traceidratio follows callers', () => {
    const plain = new RequestSampler(policy('traceidratio', false, 0.5), settings(1));
    assert.equal(traced(plain, caller(LOW_ID, false)), true, 'unsampled caller, id inside the ratio');
    assert.equal(traced(plain, caller(HIGH_ID, true)), false, 'sampled caller, id outside the ratio');
    const parent = new RequestSampler(policy('parentbased_traceidratio', true, 0.5), settings(1));
    assert.equal(traced(parent, caller(HIGH_ID, true)), true);
    assert.equal(traced(parent, caller(LOW_ID, false)), false);
    assert.equal(traced(parent, ROOT_CONTEXT, LOW_ID), true, 'root inside the ratio');
    assert.equal(traced(parent, ROOT_CONTEXT, HIGH_ID), false, 'root outside the ratio');
  });

  it('always_off traces nothing; parentbased_always_off only sampled callers; always_on everything the rate picks', () => {
    const off = new RequestSampler(policy('always_off', false, 0), settings(1));
    assert.deepEqual([traced(off), traced(off, caller(LOW_ID, true))], [false, false]);
    const parentOff = new RequestSampler(policy('parentbased_always_off', true, 0), settings(1));
    assert.deepEqual([traced(parentOff), traced(parentOff, caller(LOW_ID, true)), traced(parentOff, caller(LOW_ID, false))], [false, true, false]);
    const on = new RequestSampler(policy('always_on', false, 1), settings(1));
    assert.deepEqual([traced(on, ROOT_CONTEXT, HIGH_ID), traced(on, caller(HIGH_ID, false))], [true, true], 'unsampled callers too');
  });

  it('uses the model override of the span it is asked about, and records every non-server span', () => {
    const s = settings(1000);
    s.update('fast', { rate: 1 });
    const sampler = new RequestSampler(policy('parentbased_always_on', true, 1), s);
    assert.equal(traced(sampler, ROOT_CONTEXT, LOW_ID, 'fast'), true);
    assert.equal(traced(sampler, ROOT_CONTEXT, LOW_ID, 'other'), false);
    const phase = sampler.shouldSample(ROOT_CONTEXT, HIGH_ID, 'batch', SpanKind.INTERNAL, {}, []);
    assert.equal(phase.decision, SamplingDecision.RECORD_AND_SAMPLED);
  });
});
