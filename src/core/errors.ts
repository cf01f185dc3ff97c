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
  REQUEST_MALFORMED: {
    code: 'INVALID_ARGUMENT',
    summary: "The message does not parse as the RPC's request type (protobuf); the message gives the parse error. grpc-js alone would answer INTERNAL, which meshes retry and dashboards count as server faults.",
  },
  REQUEST_LIMIT: {
    code: 'INVALID_ARGUMENT',
    summary: 'The request is past one of the limits checked before it is decoded (inputs, elements of a tensor, dims, length of a BYTES element or of a name); the message names the flag that raises it.',
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
  SEQUENCE_ID_MISSING: {
    code: 'INVALID_ARGUMENT',
    summary: 'A request to a sequence model has no `sequence_id`, or 0, or an empty string (Triton\'s text).',
  },
  SEQUENCE_ID_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: "A sequence model's CORRID control is numeric and the request's string `sequence_id` is not a number in the control's range.",
  },
  SEQUENCE_NOT_STARTED: {
    code: 'INVALID_ARGUMENT',
    summary: 'A request names a sequence that is not active (never started, ended, idle past max_sequence_idle_microseconds, or cancelled) without `sequence_start` (Triton\'s text).',
  },
  SEQUENCE_BATCH_SIZE: {
    code: 'INVALID_ARGUMENT',
    summary: 'A request to a batching sequence model has a batch dimension other than 1 (Triton\'s text).',
  },
  SEQUENCE_ABORTED: {
    code: 'INTERNAL',
    summary: 'A request continues a sequence that the server ended because the model instance holding it failed; start the sequence again with `sequence_start`.',
  },
  DECOUPLED_UNARY: {
    code: 'UNIMPLEMENTED',
    summary: 'ModelInfer to a decoupled model, which may answer with zero or many responses; use ModelStreamInfer (Triton\'s text).',
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
  MODEL_CONTROL_DISABLED: {
    code: 'UNAVAILABLE',
    summary: 'RepositoryModelLoad or RepositoryModelUnload while --model-control-mode is none or poll (Triton answers the same).',
  },
  MODEL_NAME_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'RepositoryModelLoad names no model, only whitespace, or a name with path traversal characters (`..` or `/`).',
  },
  LOAD_PARAMETER_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'A RepositoryModelLoad/Unload parameter is unknown or has the wrong type (`config` is a string_param, `file:<path>` a bytes_param, `unload_dependents` a bool_param).',
  },
  MODEL_POLL_FAILED: {
    code: 'INTERNAL',
    summary: "RepositoryModelLoad could not read the model: it is in no repository, its config (or `config` override) does not parse or validate, or a `file:` override is unsafe or too large. Triton's code and text; the reason follows.",
  },
  MODEL_LOAD_FAILED: {
    code: 'INVALID_ARGUMENT',
    summary: 'RepositoryModelLoad read the model but a version failed to load; a version that was serving before keeps serving, and the index shows the reason.',
  },
  SHM_DISABLED: {
    code: 'UNIMPLEMENTED',
    summary: 'SystemSharedMemoryRegister while the server runs without --allow-client-shm=true (Triton\'s default and text).',
  },
  SHM_REGION_EXISTS: {
    code: 'ALREADY_EXISTS',
    summary: 'SystemSharedMemoryRegister with a name that is already registered.',
  },
  SHM_REGION_NOT_FOUND: {
    code: 'NOT_FOUND',
    summary: 'A status request or an inference request names a shared memory region that is not registered.',
  },
  SHM_REGION_INVALID: {
    code: 'INVALID_ARGUMENT',
    summary: 'SystemSharedMemoryRegister cannot use the key: not a POSIX shared memory name, no such object in /dev/shm, not a regular file, or offset + byte_size past its size.',
  },
  SHM_BOUNDS: {
    code: 'INVALID_ARGUMENT',
    summary: "An input or output's shared_memory_offset / shared_memory_byte_size fall outside the region, or the object shrank below the registered size.",
  },
  SHM_OUTPUT_TOO_SMALL: {
    code: 'INVALID_ARGUMENT',
    summary: "An output's shared_memory_byte_size is smaller than the output (Triton's text; Triton answers INTERNAL, Nereid INVALID_ARGUMENT as it is the client's mistake).",
  },
  CUDA_SHM_UNAVAILABLE: {
    code: 'INVALID_ARGUMENT',
    summary: "CudaSharedMemoryRegister: Nereid cannot import CUDA IPC handles (Triton's text for a server without GPU support).",
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

/**
 * The error type of the core: a stable id, its category, and a client-facing message.
 * Only INTERNAL errors (server faults) capture a stack trace: the others are answers to a
 * client (bad input, a full queue, a deadline), and under overload capturing a stack for
 * each refusal cost the main thread about 6% of its time, for a trace nobody reads.
 */
export class InferError extends Error {
  override readonly name = 'InferError';
  readonly code: ErrorCode;

  constructor(
    readonly id: ErrorId,
    message: string,
    options?: { cause?: unknown },
  ) {
    const limit = Error.stackTraceLimit;
    if (ERROR_CATALOG[id].code !== 'INTERNAL') Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.code = ERROR_CATALOG[id].code;
  }

  /** Returns `err` if it is already an InferError, else wraps it as INTERNAL. */
  static from(err: unknown): InferError {
    if (err instanceof InferError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new InferError('INTERNAL', message, { cause: err });
  }
}
