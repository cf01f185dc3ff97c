/**
 * Transport-free errors. Every failure a client can see is an {@link InferError} carrying
 * a stable {@link ErrorId}; each id belongs to exactly one {@link ErrorCode}, and the
 * transport maps codes to its own status space in one place
 * (src/transport/grpc/status.ts). Messages follow Triton's texts where clients depend on
 * them. docs/errors.md documents every id, and a test keeps the two in step.
 */

/** Closed set of error categories, named after the gRPC codes they map to. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'CANCELLED'
  | 'DEADLINE_EXCEEDED'
  | 'ALREADY_EXISTS';

interface CatalogEntry {
  readonly code: ErrorCode;
  readonly summary: string;
}

/** Every error id the server raises, with its category and a one-line summary. */
export const ERROR_CATALOG = {
  MODEL_NOT_FOUND: {
    code: 'NOT_FOUND',
    summary: 'The model, or the requested version of it, is not in any model repository.',
  },
  MODEL_VERSION_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'The version string is not an integer, or is negative.',
  },
  STATISTICS_MODEL_UNAVAILABLE: {
    code: 'INVALID_ARGUMENT',
    summary: 'ModelStatistics names a model or version that is not loaded (Triton answers INVALID_ARGUMENT here, not NOT_FOUND).',
  },
  MODEL_NOT_READY: {
    code: 'UNAVAILABLE',
    summary: 'The model version exists but is not ready (loading, unloading or failed to load).',
  },
  INPUT_MISSING: {
    code: 'INVALID_ARGUMENT',
    summary: 'A required input is missing, or an input has no data.',
  },
  INPUT_UNEXPECTED: {
    code: 'INVALID_ARGUMENT',
    summary: 'The request names an input the model does not have, or names one twice.',
  },
  INPUT_DATATYPE: {
    code: 'INVALID_ARGUMENT',
    summary: "An input's datatype differs from the model's.",
  },
  INPUT_SHAPE: {
    code: 'INVALID_ARGUMENT',
    summary: "An input's shape does not match the model's dims, or its element count overflows.",
  },
  INPUT_BATCH: {
    code: 'INVALID_ARGUMENT',
    summary: 'The batch dimension is missing, too large, or differs between inputs.',
  },
  INPUT_BYTE_SIZE: {
    code: 'INVALID_ARGUMENT',
    summary: "An input's data size does not match its shape and datatype.",
  },
  INPUT_CONTENTS: {
    code: 'INVALID_ARGUMENT',
    summary: 'Input data is supplied in a conflicting or malformed way (typed contents and raw bytes together, wrong contents field, bad BYTES encoding).',
  },
  OUTPUT_UNEXPECTED: {
    code: 'INVALID_ARGUMENT',
    summary: 'The request asks for an output the model does not have, or asks for one twice.',
  },
  PARAMETER_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'A request parameter has the wrong type or value, or uses a reserved key.',
  },
  PRECISION_UNAVAILABLE: {
    code: 'INVALID_ARGUMENT',
    summary: "The request's `precision` names no precision, or one the model does not serve (not configured, or it failed its accuracy check); the message lists those it serves.",
  },
  QUEUE_FULL: {
    code: 'UNAVAILABLE',
    summary: "The model's queue (or its priority level's) is at max_queue_size; the request is rejected at once.",
  },
  QUEUE_TIMEOUT: {
    code: 'UNAVAILABLE',
    summary: "The request waited in the queue longer than its timeout and the queue policy's timeout_action is REJECT.",
  },
  SETTING_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'A TraceSetting or LogSettings request has an unknown key, a value of the wrong type or format, or names a model that is not ready.',
  },
  REQUEST_CANCELLED: {
    code: 'CANCELLED',
    summary: 'The client cancelled the request before it was computed.',
  },
  DEADLINE_EXCEEDED: {
    code: 'DEADLINE_EXCEEDED',
    summary: "The request's deadline passed before it was computed.",
  },
  INSTANCE_FAILED: {
    code: 'INTERNAL',
    summary: 'The model instance running the request stopped (its worker thread died); the instance is replaced.',
  },
  BACKEND_ERROR: {
    code: 'INTERNAL',
    summary: 'ONNX Runtime reported an error while running the model.',
  },
  SERVER_STOPPING: {
    code: 'UNAVAILABLE',
    summary: 'The server is shutting down and accepts no new requests.',
  },
  UNSUPPORTED: {
    code: 'UNIMPLEMENTED',
    summary: 'The RPC or feature is not implemented by this server.',
  },
  INTERNAL: {
    code: 'INTERNAL',
    summary: 'An unexpected server fault; the message says what failed.',
  },
} as const satisfies Record<string, CatalogEntry>;

/** Stable identifier of one kind of error. */
export type ErrorId = keyof typeof ERROR_CATALOG;

/** The error type of the core: a stable id, its category, and a client-facing message. */
export class InferError extends Error {
  override readonly name = 'InferError';
  readonly code: ErrorCode;

  constructor(
    readonly id: ErrorId,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = ERROR_CATALOG[id].code;
  }

  /** Returns `err` if it is already an InferError, else wraps it as INTERNAL. */
  static from(err: unknown): InferError {
    if (err instanceof InferError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new InferError('INTERNAL', message, { cause: err });
  }
}
