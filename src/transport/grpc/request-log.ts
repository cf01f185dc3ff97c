import type { Metadata } from '@grpc/grpc-js';
import type { RequestTrace } from '../../core/telemetry.js';
import { logIds as idsFor } from '../common/request-log.js';

export { logFailure, MAX_LOGGED_MESSAGE_CHARS, RefusalLog, REFUSAL_SUMMARY_MS } from '../common/request-log.js';

/** Reads one metadata value as a string. */
export function header(metadata: Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return value === undefined ? undefined : String(value);
}

/** Log ids for a call (transport/common/request-log.ts), reading the caller's traceparent from its metadata. */
export function logIds(trace: RequestTrace | undefined, metadata: Metadata): { trace_id: string; span_id: string } {
  return idsFor(trace, (name) => header(metadata, name));
}
