import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { tracing } from '@opentelemetry/sdk-node';
import type { Logger } from '../core/logger.js';

/**
 * Counts the spans the tracer ended and the spans the exporter delivered, so that shutdown
 * can say how many were lost (failed exports, a full queue, exports cut short at exit), and
 * logs when exports start failing and when they recover: the SDK reports export errors only
 * to OpenTelemetry's global diagnostic logger, which Nereid does not install (no globals).
 * Main thread only.
 */
export class SpanAccounting {
  /** Goes first in the provider's processors: counts every recorded span as it ends. */
  readonly processor: tracing.SpanProcessor;
  /** The real exporter, counting what it delivered. */
  readonly exporter: tracing.SpanExporter;
  private endedCount = 0;
  private deliveredCount = 0;
  private failing = false;
  private quiet = false;
  private lastErrorText: string | undefined;

  constructor(inner: tracing.SpanExporter, logger: Logger) {
    this.processor = {
      onStart: () => {},
      onEnd: () => {
        this.endedCount += 1;
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    this.exporter = {
      export: (spans, done) => {
        inner.export(spans, (result: ExportResult) => {
          if (result.code === ExportResultCode.SUCCESS) {
            this.deliveredCount += spans.length;
            if (this.failing && !this.quiet) logger.info({ spans: spans.length }, 'span export recovered');
            this.failing = false;
          } else {
            this.lastErrorText = result.error?.message ?? 'export failed';
            // One line when exports start failing, not one per batch while the collector is away.
            if (!this.failing && !this.quiet) logger.warn({ spans: spans.length, err: this.lastErrorText }, 'span export failed; spans are dropped until the collector answers');
            this.failing = true;
          }
          done(result);
        });
      },
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
  }

  /** Spans ended but not delivered (yet, or ever). */
  get lost(): number {
    return this.endedCount - this.deliveredCount;
  }

  get ended(): number {
    return this.endedCount;
  }

  /** The last export error's message, if any export failed. */
  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  /** From now on export failures are left for the shutdown report. */
  silence(): void {
    this.quiet = true;
  }
}
