import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { clip } from '../core/client-text.js';
import { precisionOf } from '../core/precision.js';
import type { ExecutionProvider } from '../core/execution.js';
import type {
  CacheLookupEvent,
  CacheObserver,
  CallOutcome,
  ExecutionEvent,
  ExecutionObserver,
  IncomingCall,
  RequestTelemetry,
  RequestTrace,
} from '../core/telemetry.js';
import type { TraceConfig } from '../config/server-config.js';
import type { Logger } from '../core/logger.js';
import { MODEL_ATTRIBUTE, RequestSampler } from './request-sampler.js';
import { SpanAccounting } from './span-accounting.js';
import type { TraceSettings } from './trace-settings.js';

const RPC_SERVICE = 'inference.GRPCInferenceService';

/** What each phase span covered on an execution provider: recorded, never estimated. */
const COVERS: Readonly<Record<ExecutionProvider, Readonly<Record<'h2d' | 'compute' | 'd2h', string>>>> = {
  cpu: {
    h2d: 'host staging copy into the batch buffers and hand-off to the instance worker thread',
    compute: 'session.run on the instance worker thread',
    d2h: 'outputs back to the main thread and split per request (no device copy on CPU)',
  },
  cuda: {
    h2d: 'host staging copy and hand-off to the instance worker; the CUDA host-to-device copy happens inside session.run',
    compute: 'session.run including the host-to-device and device-to-host copies (onnxruntime-node has no CUDA IO binding)',
    d2h: 'outputs back to the main thread and split per request; the device-to-host copy happened inside session.run',
  },
  webgpu: {
    h2d: 'host staging copy and hand-off to the instance worker; onnxruntime-node has no WebGPU device in Node to upload inputs ahead, so the upload happens inside session.run',
    compute: 'session.run on the WebGPU device, including the input upload; outputs stay on the GPU',
    d2h: 'explicit download of the outputs from the GPU (tensor.getData), transfer to the main thread and split per request',
  },
};

/** A sampled request's trace: its server span. */
class SpanTrace implements RequestTrace {
  readonly traceId: string;
  readonly spanId: string;

  constructor(readonly span: Span) {
    const context = span.spanContext();
    this.traceId = context.traceId;
    this.spanId = context.spanId;
  }
}

export interface TracingOptions {
  readonly settings: TraceSettings;
  /** The frozen trace configuration; the SDK gets fresh copies of its values, never this object. */
  readonly config: Pick<TraceConfig, 'disabledBy' | 'level' | 'sampler' | 'propagate' | 'batch' | 'limits' | 'resource'>;
  readonly exporter: tracing.SpanExporter;
  /** 'batch' exports in the background (production); 'simple' exports at once (tests). */
  readonly processor: 'batch' | 'simple';
  readonly serviceVersion: string;
  /** Export failures, and at shutdown the spans that were lost. */
  readonly logger: Logger;
}

/** The longest a timer can wait in Node (longer delays fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * OpenTelemetry tracing for requests: a SERVER span per call following the RPC semantic
 * conventions, continuing an incoming W3C traceparent, and for each executed request the
 * phases `queue`, `h2d`, `compute` and `d2h` as child spans with the instants measured
 * where they happened (compute in the worker). Each execution is also one `batch` span,
 * linked both ways with the requests it served. Nothing is registered globally; with
 * tracing OFF a call costs one settings lookup. Which requests are traced is decided by
 * RequestSampler inside the SDK (OTEL_TRACES_SAMPLER, then Triton's rate and count).
 */
export class OtelTracing implements RequestTelemetry, ExecutionObserver, CacheObserver {
  private readonly provider: tracing.BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly accounting: SpanAccounting;
  private readonly off: boolean;

  constructor(private readonly options: TracingOptions) {
    const { config, logger } = options;
    this.accounting = new SpanAccounting(options.exporter, logger);
    // Fresh plain objects only: the SDK writes into the options it is given (the
    // BatchSpanProcessor fills in OTEL_BSP_* defaults), and the configuration is frozen.
    const processor =
      options.processor === 'batch'
        ? new tracing.BatchSpanProcessor(this.accounting.exporter, {
            maxQueueSize: config.batch.maxQueueSize,
            scheduledDelayMillis: config.batch.scheduledDelayMillis,
            exportTimeoutMillis: config.batch.exportTimeoutMillis,
            maxExportBatchSize: config.batch.maxExportBatchSize,
          })
        : new tracing.SimpleSpanProcessor(this.accounting.exporter);
    this.provider = new tracing.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.version': options.serviceVersion, ...config.resource }),
      sampler: new RequestSampler({ ...config.sampler }, options.settings),
      spanLimits: { ...config.limits },
      spanProcessors: [this.accounting.processor, processor],
    });
    this.tracer = this.provider.getTracer('nereid', options.serviceVersion);
    this.off = config.disabledBy !== undefined;
    if (this.off) {
      const message = `tracing is off: ${config.disabledBy} (no span is recorded, whatever --trace-config and the TraceSetting RPC say)`;
      if (config.level === 'OFF') logger.info(message);
      else logger.warn(message);
    }
  }

  startCall(call: IncomingCall): RequestTrace | undefined {
    if (this.off || !this.options.settings.enabled(call.model)) return undefined;
    const parent = this.parentContext(call);
    // HTTP spans follow OpenTelemetry's HTTP conventions: named `METHOD route`, with the route's template.
    const http = call.protocol === 'http';
    const [httpMethod = '', route = ''] = http ? call.method.split(' ') : [];
    const span = this.tracer.startSpan(
      http ? call.method : `${RPC_SERVICE}/${call.method}`,
      {
        kind: SpanKind.SERVER,
        // The model name is the client's string here (it may name no model): bounded like every client string.
        attributes: {
          ...(http ? { 'http.request.method': httpMethod, 'http.route': route } : { 'rpc.system': 'grpc', 'rpc.service': RPC_SERVICE, 'rpc.method': call.method }),
          [MODEL_ATTRIBUTE]: clip(call.model),
        },
        ...(call.link instanceof SpanTrace ? { links: [{ context: call.link.span.spanContext() }] } : {}),
      },
      parent ?? ROOT_CONTEXT,
    );
    // Not sampled: a non-recording span, which needs no end.
    return span.isRecording() ? new SpanTrace(span) : undefined;
  }

  endCall(requestTrace: RequestTrace | undefined, outcome: CallOutcome): void {
    if (!(requestTrace instanceof SpanTrace)) return;
    const span = requestTrace.span;
    if (outcome.grpcStatus !== undefined) span.setAttribute('rpc.grpc.status_code', outcome.grpcStatus);
    if (outcome.httpStatus !== undefined) span.setAttribute('http.response.status_code', outcome.httpStatus);
    if (outcome.error !== undefined) {
      span.setAttribute('nereid.error.id', outcome.error.id);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
    }
    span.end();
  }

  onExecution(event: ExecutionEvent): void {
    const traced = event.requests.filter((r): r is typeof r & { trace: SpanTrace } => r.trace instanceof SpanTrace);
    if (traced.length === 0) return;
    const common = {
      'nereid.model.name': event.model,
      'nereid.model.version': String(event.version),
      'nereid.batch.size': event.items,
      'nereid.batch.requests': event.requests.length,
      'nereid.instance': event.instance,
      'nereid.instance.lane': event.instance,
      'nereid.execution_provider': event.executionProvider,
      'nereid.device': `${event.executionProvider}:${event.deviceId}`,
      'nereid.precision': precisionOf(event.variant),
      'nereid.model.variant': event.variant,
    };
    const batch = this.tracer.startSpan(
      'batch',
      { startTime: event.dispatchAt, attributes: common, links: traced.map((r) => ({ context: r.trace.span.spanContext() })) },
      ROOT_CONTEXT,
    );
    batch.end(event.end);
    const covers = COVERS[event.executionProvider];
    for (const request of traced) {
      const parent = trace.setSpan(ROOT_CONTEXT, request.trace.span);
      const attributes = { ...common, 'nereid.request.id': clip(request.id), 'nereid.request.answered': request.answered };
      this.phase(parent, 'queue', request.enqueuedAt, event.dispatchAt, { ...attributes, 'nereid.phase.covers': "waiting in the model's queue" });
      this.phase(parent, 'h2d', event.dispatchAt, event.computeStart, { ...attributes, 'nereid.phase.covers': covers.h2d });
      this.phase(parent, 'compute', event.computeStart, event.computeEnd, { ...attributes, 'nereid.phase.covers': covers.compute }, batch);
      this.phase(parent, 'd2h', event.computeEnd, event.end, { ...attributes, 'nereid.phase.covers': covers.d2h });
    }
  }

  /**
   * A traced request's response-cache lookup: a `cache_lookup` span under its call span
   * saying whether it hit. A hit has no other phase (it never reached the scheduler); a
   * miss goes on to the usual queue, h2d, compute and d2h spans.
   */
  onCacheLookup(event: CacheLookupEvent): void {
    if (!(event.trace instanceof SpanTrace)) return;
    const parent = trace.setSpan(ROOT_CONTEXT, event.trace.span);
    this.phase(parent, 'cache_lookup', event.start, event.end, {
      'nereid.model.name': event.model,
      'nereid.model.version': String(event.version),
      'nereid.request.id': clip(event.requestId),
      'nereid.cache.hit': event.hit,
      'nereid.phase.covers': event.hit
        ? 'request key (SHA-256 of its inputs) and lookup in the response cache; the response came from the cache, nothing was executed'
        : 'request key (SHA-256 of its inputs) and lookup in the response cache; not found, so the request was executed',
    });
    event.trace.span.setAttribute('nereid.cache.hit', event.hit);
  }

  /**
   * Exports what is pending and stops, waiting at most `budgetMs`. Never throws: spans that
   * could not be exported (no collector, a timeout) are logged as a warning with their
   * count, since losing them is no reason for the server's shutdown to fail.
   */
  async shutdown(budgetMs = MAX_TIMER_MS): Promise<void> {
    this.accounting.silence();
    let timer: NodeJS.Timeout | undefined;
    const stopped = this.provider.shutdown().then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    const budget = Math.max(0, Math.min(budgetMs, MAX_TIMER_MS));
    const expired = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`exports did not finish within the ${budget} ms left of the exit timeout`), budget);
    });
    let failure = await Promise.race([stopped, expired]);
    // The batch span processor rejects a slow export with a bare 'Timeout'.
    if (failure === 'Timeout') failure = `an export did not finish within the export timeout (${this.options.config.batch.exportTimeoutMillis} ms)`;
    clearTimeout(timer);
    const lost = this.accounting.lost;
    if (failure === undefined && lost === 0) return;
    this.options.logger.warn(
      { spansLost: lost, spansEnded: this.accounting.ended, err: failure ?? this.accounting.lastError },
      'tracing stopped; some spans were never exported',
    );
  }

  private phase(parent: Context, name: string, start: number, end: number, attributes: Record<string, string | number | boolean>, link?: Span): void {
    const span = this.tracer.startSpan(name, { startTime: start, attributes, ...(link ? { links: [{ context: link.spanContext() }] } : {}) }, parent);
    span.end(end);
  }

  private parentContext(call: IncomingCall): Context | undefined {
    if (!this.options.config.propagate) return undefined;
    const traceparent = call.header('traceparent');
    if (traceparent === undefined) return undefined;
    const carrier: Record<string, string> = { traceparent };
    const tracestate = call.header('tracestate');
    if (tracestate !== undefined) carrier['tracestate'] = tracestate;
    const context = this.propagator.extract(ROOT_CONTEXT, carrier, {
      get: (c: Record<string, string>, key: string) => c[key],
      keys: (c: Record<string, string>) => Object.keys(c),
    });
    return trace.getSpanContext(context) === undefined ? undefined : context;
  }
}
