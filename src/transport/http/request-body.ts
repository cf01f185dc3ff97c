import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType } from 'node:zlib';
import { InferError } from '../../core/errors.js';
import { limitError } from '../../core/request-limits.js';
import { MIN_COPY_BYTES, type InputArena } from '../common/input-arena.js';

/** A request body past the size limit, on the wire or decompressed; the connection is closed after the answer. */
export class BodyTooLarge extends InferError {}

/**
 * Reads a request's body whole, refusing it past `maxBytes`: at once from its
 * Content-Length, before reading (the body stays unread and the connection is closed
 * after the answer), or as soon as chunks add up past it. One chunk is returned as is,
 * more are copied once into one buffer.
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return (await readPooledBody(request, maxBytes, undefined)).body;
}

/**
 * Larger bodies are joined as usual: rare, and a pooled buffer (sizes round up to a power of
 * two) would keep up to twice their size.
 */
const MAX_POOLED_BODY_BYTES = 16 * 1024 * 1024;

/** A body read into pooled memory, and the function that gives that memory back (a no-op when it is not pooled). */
export interface PooledBody {
  readonly body: Buffer;
  readonly release: () => void;
}

/**
 * As readBody, but a body whose Content-Length is 32 KiB to 16 MiB is copied, chunk by
 * chunk as it arrives, into a buffer taken from `pool` (its one copy, in place of joining
 * the chunks), so that the socket's chunks die young and the body, alive until the
 * request is answered, is pooled memory that puts no pressure on the collector (see
 * InputArena). The caller releases it once nothing reads the body; on failure it is
 * released here.
 */
export function readPooledBody(request: IncomingMessage, maxBytes: number, pool: InputArena | undefined): Promise<PooledBody> {
  const declared = request.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > maxBytes) {
    return Promise.reject(tooLarge(`request body of ${declared} bytes is larger than ${maxBytes} bytes`));
  }
  const pooled = length === undefined || !Number.isSafeInteger(length) || length > MAX_POOLED_BODY_BYTES ? undefined : pool?.take(length, MIN_COPY_BYTES);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: unknown) => {
      pooled?.release();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (pooled !== undefined && size + chunk.length <= pooled.bytes.length) {
        pooled.bytes.set(chunk, size);
        size += chunk.length;
        return;
      }
      size += chunk.length;
      if (size > maxBytes || pooled !== undefined) {
        // node's parser delivers exactly Content-Length bytes; more is only the size limit.
        request.off('data', onData);
        request.pause();
        fail(tooLarge(`request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (pooled !== undefined) resolve({ body: pooled.bytes.subarray(0, size), release: pooled.release });
      else resolve({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), release: noop });
    });
    request.once('error', fail);
  });
}

function noop(): void {}

function tooLarge(message: string): BodyTooLarge {
  const error = limitError(message, 'maxMessageBytes');
  return new BodyTooLarge(error.id, error.message);
}

/**
 * The body as sent before compression: Content-Encoding gzip or deflate (what tritonclient
 * sends with `request_compression_algorithm`) is inflated, refused past `maxBytes`
 * decompressed; identity or none passes. Any other encoding is Triton's UNSUPPORTED
 * "Unsupported compression type" (the answer names what is accepted in Accept-Encoding).
 */
export async function decodeBody(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  if (isIdentity(encoding)) return body;
  const name = encoding!.trim().toLowerCase();
  const inflater = name === 'gzip' || name === 'x-gzip' ? gunzip : name === 'deflate' ? inflate : undefined;
  if (inflater === undefined) throw new InferError('UNSUPPORTED', 'Unsupported compression type');
  return new Promise((resolve, reject) => {
    inflater(body as InputType, { maxOutputLength: maxBytes }, (err, out) => {
      if (err === null) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge(`request body is larger than ${maxBytes} bytes once decompressed`));
      else reject(new InferError('REQUEST_MALFORMED', `unable to decompress the request body (${name}): ${err.message}`));
    });
  });
}

/** Whether a Content-Encoding leaves the body as sent (none, or identity). */
export function isIdentity(encoding: string | undefined): boolean {
  const name = (encoding ?? '').trim().toLowerCase();
  return name === '' || name === 'identity';
}

/** What the response may be compressed with: Triton's choice from Accept-Encoding (highest q among identity, deflate, gzip). */
export function responseEncoding(accept: string | undefined): 'gzip' | 'deflate' | undefined {
  if (accept === undefined) return undefined;
  let chosen = 'identity';
  let weight = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const w = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(w)) continue;
    const name = type.trim().toLowerCase();
    if ((name === 'identity' || name === 'deflate' || name === 'gzip') && w > weight) {
      chosen = name;
      weight = w;
    }
  }
  return chosen === 'identity' ? undefined : (chosen as 'gzip' | 'deflate');
}
