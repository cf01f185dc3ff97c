import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { tracing } from '@opentelemetry/sdk-node';
import { loadConfig } from '../../../src/config/load-config.js';
import type { TraceConfig } from '../../../src/config/server-config.js';
import type { Logger } from '../../../src/core/logger.js';
import type { IncomingCall } from '../../../src/core/telemetry.js';
import { TraceSettings } from '../../../src/telemetry/trace-settings.js';
import { OtelTracing } from '../../../src/telemetry/tracing.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c12666c';

/** The frozen trace configuration loadConfig gives the server for these variables and entries. */
function traceConfig(env: NodeJS.ProcessEnv, entries = 'level=TIMESTAMPS,rate=1'): TraceConfig {
  const command = loadConfig(['--model-repository', '/models', '--trace-config', entries], env);
  assert.equal(command.kind, 'run');
  assert.ok(Object.isFrozen(command.config.trace.batch), 'the configuration is frozen, as in the server');
  return command.config.trace;
}

/** Log lines, as a test reads them. */
function captureLogger(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown> | string, msg?: string): void => {
      lines.push(typeof fields === 'string' ? { level, msg: fields, fields: {} } : { level, msg: msg ?? '', fields });
    };
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** A span exporter whose answers the test controls: succeed, fail, or hold until released. */
class ScriptedExporter implements tracing.SpanExporter {
  readonly batches: tracing.ReadableSpan[][] = [];
  private readonly held: (() => void)[] = [];
  private readonly waiters: (() => void)[] = [];
  answer: 'success' | 'fail' | 'hold' = 'success';

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    this.batches.push(spans);
    for (const wake of this.waiters.splice(0)) wake();
    const reply = this.answer === 'fail' ? () => done({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') }) : () => done({ code: ExportResultCode.SUCCESS });
    if (this.answer === 'hold') this.held.push(reply);
    else reply();
  }

  /** Answers every held export with success. */
  release(): void {
    for (const reply of this.held.splice(0)) reply();
  }

  /** Resolves once `n` batches have been exported. */
  async exported(n: number): Promise<void> {
    while (this.batches.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async shutdown(): Promise<void> {}
}

function tracingFor(config: TraceConfig, exporter: tracing.SpanExporter, processor: 'batch' | 'simple' = 'batch') {
  const logger = captureLogger();
  const settings = new TraceSettings({ level: config.level, rate: config.rate, count: config.count, mode: 'opentelemetry' }, {});
  const tracer = new OtelTracing({ settings, config, exporter, processor, serviceVersion: '0.0.0-test', logger });
  return { tracer, logger };
}

function call(headers: Record<string, string> = {}): IncomingCall {
  return { method: 'ModelInfer', model: 'simple', header: (name) => headers[name] };
}

/** One traced call, start to end; returns whether it was traced. */
function serve(tracer: OtelTracing, headers: Record<string, string> = {}): boolean {
  const trace = tracer.startCall(call(headers));
  tracer.endCall(trace, { code: 'OK', grpcStatus: 0 });
  return trace !== undefined;
}

const warnings = (logger: ReturnType<typeof captureLogger>) => logger.lines.filter((l) => l.level === 'warn');

describe('OtelTracing with the standard OTEL_* variables', () => {
  it('builds a batch processor from a frozen configuration with OTEL_BSP_* set, and exports on their schedule in their batch size', async () => {
    const config = traceConfig({ OTEL_BSP_SCHEDULE_DELAY: '1', OTEL_BSP_EXPORT_TIMEOUT: '5000', OTEL_BSP_MAX_QUEUE_SIZE: '64', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2' });
    const exporter = new ScriptedExporter();
    const { tracer, logger } = tracingFor(config, exporter);
    for (let i = 0; i < 5; i++) assert.equal(serve(tracer), true);
    // A 1 ms delay exports without a flush; the default (5 s) would leave them queued until shutdown.
    await exporter.exported(1);
    await tracer.shutdown();
    assert.deepEqual(exporter.batches.flat().length, 5, 'every span exported');
    assert.ok(exporter.batches.every((batch) => batch.length <= 2), `batches of at most 2: ${exporter.batches.map((b) => b.length).join(',')}`);
    assert.deepEqual(warnings(logger), [], 'nothing lost');
  });

  it('OTEL_BSP_MAX_QUEUE_SIZE: spans beyond a full queue are dropped, and shutdown counts them as lost', async () => {
    const config = traceConfig({ OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_MAX_QUEUE_SIZE: '2', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1' });
    const exporter = new ScriptedExporter();
    exporter.answer = 'hold';
    const { tracer, logger } = tracingFor(config, exporter);
    // The first span goes to the exporter at once (batch size 1) and is held; two more fill the queue; two are dropped.
    for (let i = 0; i < 5; i++) serve(tracer);
    exporter.answer = 'success';
    exporter.release();
    await tracer.shutdown();
    assert.equal(exporter.batches.flat().length, 3);
    const [warning] = warnings(logger);
    assert.equal(warning?.msg, 'tracing stopped; some spans were never exported');
    assert.equal(warning?.fields['spansLost'], 2);
    assert.equal(warning?.fields['spansEnded'], 5);
  });

  it('a failed final export is a warning with the spans lost, never a failed shutdown', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = 'fail';
    const { tracer, logger } = tracingFor(traceConfig({}), exporter);
    serve(tracer);
    serve(tracer);
    await tracer.shutdown(); // resolves: the exporter's failure is not the server's
    assert.deepEqual(
      warnings(logger).map((l) => [l.msg, l.fields['spansLost'], l.fields['err']]),
      [['tracing stopped; some spans were never exported', 2, 'connect ECONNREFUSED 127.0.0.1:4318']],
    );
  });

  it('logs once when exports start failing and once when they recover', async () => {
    const exporter = new ScriptedExporter();
    const { tracer, logger } = tracingFor(traceConfig({}), exporter, 'simple');
    exporter.answer = 'fail';
    serve(tracer);
    serve(tracer);
    exporter.answer = 'success';
    serve(tracer);
    await tracer.shutdown();
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.msg]),
      [
        ['warn', 'span export failed; spans are dropped until the collector answers'],
        ['info', 'span export recovered'],
        ['warn', 'tracing stopped; some spans were never exported'],
      ],
    );
    assert.equal(warnings(logger)[1]?.fields['spansLost'], 2);
  });

  it('OTEL_BSP_EXPORT_TIMEOUT bounds a final export that never answers; the shutdown budget bounds the rest', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = 'hold';
    const timed = tracingFor(traceConfig({ OTEL_BSP_EXPORT_TIMEOUT: '20' }), exporter);
    serve(timed.tracer);
    await timed.tracer.shutdown();
    assert.deepEqual(warnings(timed.logger).map((l) => [l.fields['spansLost'], l.fields['err']]), [[1, 'an export did not finish within the export timeout (20 ms)']]);

    const budgeted = tracingFor(traceConfig({}), exporter);
    serve(budgeted.tracer);
    await budgeted.tracer.shutdown(20);
    assert.deepEqual(warnings(budgeted.logger).map((l) => [l.fields['spansLost'], l.fields['err']]), [[1, 'exports did not finish within the 20 ms left of the exit timeout']]);
    exporter.release();
  });

  it('span limits and the resource from OTEL_SPAN_*_LIMIT, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const exporter = new tracing.InMemorySpanExporter();
    const env = { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '3', OTEL_SERVICE_NAME: 'ocr', OTEL_RESOURCE_ATTRIBUTES: 'team=vision' };
    const { tracer } = tracingFor(traceConfig(env), exporter, 'simple');
    serve(tracer);
    const [span] = exporter.getFinishedSpans(); // before shutdown, which empties the in-memory exporter
    assert.deepEqual(span?.attributes, { 'rpc.system': 'grp', 'rpc.service': 'inf' }, 'two attributes, three characters each');
    assert.equal(span?.resource.attributes['service.name'], 'ocr');
    assert.equal(span?.resource.attributes['team'], 'vision');
  });

  it('OTEL_TRACES_SAMPLER=always_off records nothing, not even a sampled caller; parentbased_always_off only callers', async () => {
    const sampled = { traceparent: `00-${TRACE_ID}-b7ad6b7169242424-01` };
    const off = tracingFor(traceConfig({ OTEL_TRACES_SAMPLER: 'always_off' }), new tracing.InMemorySpanExporter(), 'simple');
    assert.deepEqual([serve(off.tracer), serve(off.tracer, sampled)], [false, false]);
    const parentOff = tracingFor(traceConfig({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }), new tracing.InMemorySpanExporter(), 'simple');
    assert.deepEqual([serve(parentOff.tracer), serve(parentOff.tracer, sampled)], [false, true]);
  });

  it('OTEL_PROPAGATORS=none: a caller trace is not continued', () => {
    const exporter = new tracing.InMemorySpanExporter();
    const { tracer } = tracingFor(traceConfig({ OTEL_PROPAGATORS: 'none' }), exporter, 'simple');
    const trace = tracer.startCall(call({ traceparent: `00-${TRACE_ID}-b7ad6b7169242424-01` }));
    assert.ok(trace !== undefined, 'traced as a root (rate=1)');
    assert.notEqual(trace.traceId, TRACE_ID);
  });

  it('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none: nothing recorded, and a warning when tracing was asked for', async () => {
    for (const [env, variable] of [[{ OTEL_SDK_DISABLED: 'true' }, 'OTEL_SDK_DISABLED=true'], [{ OTEL_TRACES_EXPORTER: 'none' }, 'OTEL_TRACES_EXPORTER=none']] as const) {
      const exporter = new tracing.InMemorySpanExporter();
      const { tracer, logger } = tracingFor(traceConfig(env), exporter, 'simple');
      assert.equal(serve(tracer, { traceparent: `00-${TRACE_ID}-b7ad6b7169242424-01` }), false);
      assert.equal(exporter.getFinishedSpans().length, 0);
      await tracer.shutdown();
      assert.deepEqual(warnings(logger).map((l) => l.msg), [`tracing is off: ${variable} (no span is recorded, whatever --trace-config and the TraceSetting RPC say)`]);
    }
  });
});
