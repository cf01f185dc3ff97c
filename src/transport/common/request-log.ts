import { randomBytes } from 'node:crypto';
import { clip } from '../../core/client-text.js';
import type { InferError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RequestTrace } from '../../core/telemetry.js';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/** Reads one request header (gRPC metadata or an HTTP header) as a string. */
export type HeaderReader = (name: string) => string | undefined;

/**
 * trace_id and span_id for a request's log lines: its span when traced; else the caller's
 * traceparent, so the line still joins the caller's trace; else fresh random ids.
 */
export function logIds(trace: RequestTrace | undefined, header: HeaderReader): { trace_id: string; span_id: string } {
  if (trace !== undefined) return { trace_id: trace.traceId, span_id: trace.spanId };
  const parent = TRACEPARENT.exec(header('traceparent') ?? '');
  if (parent !== null) return { trace_id: parent[1]!, span_id: parent[2]! };
  return { trace_id: randomBytes(16).toString('hex'), span_id: randomBytes(8).toString('hex') };
}

/**
 * Longest error message written whole into a log line, in characters. Messages quote
 * client strings only briefly (core/client-text.ts); this bounds any other message, so
 * that a client cannot make each failed request write kilobytes of log.
 */
export const MAX_LOGGED_MESSAGE_CHARS = 2048;

/**
 * One structured line per failed request: info for client mistakes and cancellations,
 * warn when the server refused (UNAVAILABLE), error for server faults (INTERNAL). The
 * caller bounds client strings among `fields` (see clip).
 */
export function logFailure(logger: Logger, error: InferError, fields: Record<string, unknown>): void {
  const line = { ...fields, code: error.code, error_id: error.id, error: clip(error.message, MAX_LOGGED_MESSAGE_CHARS) };
  if (error.code === 'INTERNAL') logger.error(line, 'inference request failed');
  else if (error.code === 'UNAVAILABLE') logger.warn(line, 'inference request failed');
  else logger.info(line, 'inference request failed');
}

/** How often a summary of refused requests is written while refusals go on. */
export const REFUSAL_SUMMARY_MS = 1000;

/**
 * Refusals under overload (a full queue) are logged when they start, then summed: one
 * line per model and second with how many were refused since. A server refusing
 * thousands of requests a second would otherwise spend its main thread writing a line
 * (and drawing random log ids) for each, and serve fewer of the requests it accepted.
 * Each refusal still counts in the failure metrics and statistics. Main thread only.
 */
export class RefusalLog {
  private readonly open = new Map<string, { count: number; error: InferError; model: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = REFUSAL_SUMMARY_MS,
  ) {}

  /** Logs the refusal (with `fields()`) if none was logged for this model and error lately; else counts it. */
  note(model: string, error: InferError, fields: () => Record<string, unknown>): void {
    const key = `${error.id}\u0000${model}`;
    const entry = this.open.get(key);
    if (entry !== undefined) {
      entry.count += 1;
      return;
    }
    logFailure(this.logger, error, fields());
    this.open.set(key, { count: 0, error, model });
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  private flush(): void {
    this.timer = undefined;
    for (const [key, entry] of this.open) {
      if (entry.count === 0) {
        this.open.delete(key);
        continue;
      }
      const { error } = entry;
      this.logger.warn(
        { model: entry.model, refused: entry.count, code: error.code, error_id: error.id, error: clip(error.message, MAX_LOGGED_MESSAGE_CHARS), seconds: this.intervalMs / 1000 },
        'inference requests refused (summed; the first was logged on its own)',
      );
      entry.count = 0;
    }
    if (this.open.size > 0) this.timer = setTimeout(() => this.flush(), this.intervalMs).unref();
  }
}
