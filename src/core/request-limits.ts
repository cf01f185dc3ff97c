import { quote } from './client-text.js';
import { InferError } from './errors.js';
import type { InferRequest } from './infer-request.js';

/**
 * Bounds on what one inference request may make the server hold, checked before the
 * server allocates for it: the transport checks the wire message against them before
 * decoding it (transport/grpc/infer-request-scan.ts), and the BYTES elements of raw data
 * right after (see {@link checkBytesElementLengths}). A decoded request costs far more
 * than its bytes on the wire where the protocol packs small things densely: an empty
 * input is 2 bytes on the wire and hundreds in memory, a shape dim or an int64 typed
 * element 1 byte and 8 to 32. Without these, a 32 MiB message took 3 GiB and 16 s of
 * the main thread. The message size itself is enforced by gRPC (grpc-js refuses a longer
 * message from its 5-byte length prefix, before reading it).
 */
export interface RequestLimits {
  /** Most bytes of one request message on the wire (gRPC's max receive message length). */
  readonly maxMessageBytes: number;
  /** Most inputs, requested outputs and raw_input_contents entries, each, and entries of one parameters map. */
  readonly maxInputs: number;
  /** Most elements of one input: its shape's product, and the count of its typed contents. */
  readonly maxTensorElements: number;
  /** Most bytes of one BYTES element, raw or typed. */
  readonly maxBytesElementBytes: number;
  /** Most UTF-8 bytes of the model name, version, id, a tensor name, a datatype or a parameter key. */
  readonly maxNameBytes: number;
}

/** Most dims a tensor may have: NumPy's limit (NPY_MAXDIMS in NumPy 2); no model comes near it. */
export const MAX_TENSOR_RANK = 64;

/** The flags that raise each limit, named in refusals so that an operator knows what to change. */
export const LIMIT_FLAGS: Readonly<Record<keyof RequestLimits, string>> = {
  maxMessageBytes: '--grpc-max-receive-message-bytes',
  maxInputs: '--max-request-inputs',
  maxTensorElements: '--max-tensor-elements',
  maxBytesElementBytes: '--max-bytes-element-bytes',
  maxNameBytes: '--max-request-name-bytes',
};

/** The refusal for a request past one limit: `message` says what and how much; the flag follows. */
export function limitError(message: string, limit: keyof RequestLimits): InferError {
  return new InferError('REQUEST_LIMIT', `${message} (${LIMIT_FLAGS[limit]})`);
}

/**
 * Checks the length of every BYTES element of the request's BYTES inputs (raw data and
 * shared memory; typed bytes_contents were checked on the wire), walking their 4-byte
 * length prefixes. It only reads: the elements become strings later, in the backend.
 * Malformed prefixes are left to validation, which reports them with Triton's texts.
 */
export function checkBytesElementLengths(request: InferRequest, limits: RequestLimits): void {
  for (const input of request.inputs) {
    if (input.datatype !== 'BYTES') continue;
    const data = input.data;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let offset = 0, index = 0; offset + 4 <= data.byteLength; index++) {
      const length = view.getUint32(offset, true);
      if (length > limits.maxBytesElementBytes) {
        const max = limits.maxBytesElementBytes;
        throw limitError(`BYTES element ${index} of input ${quote(input.name)} is ${length} bytes long; this server takes at most ${max}`, 'maxBytesElementBytes');
      }
      offset += 4 + length;
    }
  }
}
