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

/**
 * Most bytes the `grpc-message` trailer may take on the wire, after percent-encoding.
 * Trailers are one HTTP/2 header block, and a peer that finds it too large drops the
 * stream or the whole connection, failing every call on it. gRPC C-core (Python and C++
 * clients, tritonclient among them) refuses metadata past a soft limit of 8 KiB by
 * default, counted over all trailers; Node's HTTP/2 and Go's allow more. 4 KiB leaves
 * the other half for grpc-status, nereid-error-id and HPACK's per-entry overhead.
 * Messages are bounded where they are made (core/client-text.ts); this catches the rest.
 */
export const MAX_STATUS_MESSAGE_BYTES = 4096;

/** The gRPC status for a core error code: the one place where the two meet. */
export function grpcCode(code: ErrorCode): status {
  return GRPC_CODE[code];
}

/**
 * Turns anything thrown while handling a call into the error grpc-js sends. InferErrors
 * keep their message (bounded by {@link statusMessage}); the stable id travels in the
 * `nereid-error-id` trailer.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const error = InferError.from(err);
  const metadata = new Metadata();
  metadata.set('nereid-error-id', error.id);
  return { code: grpcCode(error.code), details: statusMessage(error.message), metadata };
}

const CUT_NOTE = (chars: number) => `… (message cut; it had ${chars} characters)`;

/**
 * `message` as grpc-js can send it in `grpc-message`: lone surrogates (which make
 * grpc-js's encodeURI throw) replaced by U+FFFD, and cut between code points so that its
 * percent-encoded form stays within {@link MAX_STATUS_MESSAGE_BYTES}, with a note of its
 * full length in characters. Messages within the bound come back unchanged.
 */
export function statusMessage(message: string, maxBytes: number = MAX_STATUS_MESSAGE_BYTES): string {
  const text = message.replace(LONE_SURROGATE, '\uFFFD');
  // No UTF-16 unit encodes to more than 9 bytes (a surrogate pair, two units, to 12).
  if (text.length * 9 <= maxBytes) return text;
  const budget = maxBytes - encodedSize(CUT_NOTE(text.length));
  let used = 0;
  let cutAt = -1;
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    const point = text.codePointAt(i)!;
    used += pointSize(point);
    if (used > budget && cutAt === -1) cutAt = i;
    if (point > 0xffff) i += 1;
    chars += 1;
  }
  if (used <= maxBytes) return text;
  return text.slice(0, cutAt) + CUT_NOTE(chars);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ASCII characters that encodeURI leaves as they are; it writes every other byte as %XX. */
const URI_KEPT = /^[A-Za-z0-9\-_.!~*'();/?:@&=+$,#]$/;

/** Bytes one code point takes once grpc-js has encoded the message with encodeURI. */
function pointSize(point: number): number {
  if (point < 0x80) return URI_KEPT.test(String.fromCharCode(point)) ? 1 : 3;
  if (point < 0x800) return 6;
  if (point < 0x10000) return 9;
  return 12;
}

/** Bytes of `text` once encoded with encodeURI. */
function encodedSize(text: string): number {
  let size = 0;
  for (const char of text) size += pointSize(char.codePointAt(0)!);
  return size;
}
