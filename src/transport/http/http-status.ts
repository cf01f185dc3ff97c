import { InferError, type ErrorCode } from '../../core/errors.js';

/**
 * HTTP statuses for core error codes: Triton's mapping (server's HttpCodeFromError, and
 * docs/protocol/README.md): INTERNAL 500, NOT_FOUND 404, UNAVAILABLE 503, UNSUPPORTED
 * (our UNIMPLEMENTED) 501, every other code 400. Nereid's codes Triton lacks follow "others":
 * DEADLINE_EXCEEDED (HTTP requests carry no deadline of their own) is 400 like CANCELLED.
 */
const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  CANCELLED: 400,
  DEADLINE_EXCEEDED: 400,
  ALREADY_EXISTS: 400,
};

/** The HTTP status for a core error code: the one place where the two meet. */
export function httpStatus(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** An error as the HTTP endpoint answers it: its status, Triton's `{"error": "..."}` body and the stable id. */
export interface HttpError {
  readonly status: number;
  readonly body: string;
  readonly error: InferError;
}

/** Turns anything thrown while handling a request into its answer (messages are bounded where they are made: core/client-text.ts). */
export function toHttpError(err: unknown): HttpError {
  const error = InferError.from(err);
  return { status: httpStatus(error.code), body: errorBody(error.message), error };
}

/** Triton's error body. */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}
