import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { InferError, type ErrorCode } from '../../core/errors.js';

const GRPC_CODE: Readonly<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  UNAVAILABLE: status.UNAVAILABLE,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL,
  CANCELLED: status.CANCELLED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
};

/** The gRPC status for a core error code: the one place where the two meet. */
export function grpcCode(code: ErrorCode): status {
  return GRPC_CODE[code];
}

/**
 * Turns anything thrown while handling a call into the error grpc-js sends. InferErrors
 * keep their message; the stable id travels in the `nereid-error-id` trailer.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const error = InferError.from(err);
  const metadata = new Metadata();
  metadata.set('nereid-error-id', error.id);
  return { code: grpcCode(error.code), details: error.message, metadata };
}
