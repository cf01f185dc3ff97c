import { SamplingDecision, SpanKind, TraceFlags, isSpanContextValid, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import type { TraceSampler } from '../config/server-config.js';

/** The attribute of a request's server span that names its model (the sampler reads it). */
export const MODEL_ATTRIBUTE = 'nereid.model.name';

const SAMPLED: tracing.SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const DROPPED: tracing.SamplingResult = { decision: SamplingDecision.NOT_RECORD };

/** Triton's counting sampler: every rate-th call while count lasts (TraceSettings). */
export interface RootCounter {
  sampleRoot(model: string): boolean;
}

/**
 * The tracer provider's sampler. It decides for each request's SERVER span, in this order:
 * a parent-based sampler follows a caller's valid trace context (sampled or not); otherwise
 * the OTEL_TRACES_SAMPLER ratio is applied to the trace id (1 for always_on, 0 for
 * always_off), and what passes is counted by Triton's rate and count. Spans of other kinds
 * (the phases and the `batch` span) are only started for a request already traced, so they
 * are always recorded. Runs inside startSpan, where the trace id is known. Main thread only.
 */
export class RequestSampler implements tracing.Sampler {
  private readonly byTraceId: tracing.Sampler | undefined;

  constructor(
    private readonly policy: TraceSampler,
    private readonly counter: RootCounter,
  ) {
    this.byTraceId = policy.ratio > 0 && policy.ratio < 1 ? new tracing.TraceIdRatioBasedSampler(policy.ratio) : undefined;
  }

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): tracing.SamplingResult {
    if (kind !== SpanKind.SERVER) return SAMPLED;
    const parent = trace.getSpanContext(context);
    if (this.policy.parentBased && parent !== undefined && isSpanContextValid(parent)) {
      return (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? SAMPLED : DROPPED;
    }
    if (this.policy.ratio === 0) return DROPPED;
    if (this.byTraceId !== undefined && this.byTraceId.shouldSample(context, traceId, name, kind, attributes, links).decision === SamplingDecision.NOT_RECORD) {
      return DROPPED;
    }
    const model = attributes[MODEL_ATTRIBUTE];
    return this.counter.sampleRoot(typeof model === 'string' ? model : '') ? SAMPLED : DROPPED;
  }

  toString(): string {
    return `NereidRequestSampler{${this.policy.name}}`;
  }
}
