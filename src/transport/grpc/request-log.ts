import { randomBytes } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { clip } from '../../core/client-text.js';
import type { InferError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RequestTrace } from '../../core/telemetry.js';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/** Reads one metadata value as a string. */
export function header(metadata: Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return value === undefined ? undefined : String(value);
}

/**
 * trace_id and span_id for a request's log lines: its span when traced; else the caller's
 * traceparent, so the line still joins the caller's trace; else fresh random ids.
 */
export function logIds(trace: RequestTrace | undefined, metadata: Metadata): { trace_id: string; span_id: string } {
  if (trace !== undefined) return { trace_id: trace.traceId, span_id: trace.spanId };
  const parent = TRACEPARENT.exec(header(metadata, 'traceparent') ?? '');
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
