import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType } from 'node:zlib';
import { InferError } from '../../core/errors.js';
import { limitError } from '../../core/request-limits.js';

/** A request body past the size limit, on the wire or decompressed; the connection is closed after the answer. */
export class BodyTooLarge extends InferError {}

/**
 * Reads a request's body whole, refusing it past `maxBytes`: at once from its
 * Content-Length, before reading (the body stays unread and the connection is closed
 * after the answer), or as soon as chunks add up past it. One chunk is returned as is.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(`request body of ${declared} bytes is larger than ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off('data', onData);
        request.pause();
        reject(tooLarge(`request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

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
  const name = (encoding ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return body;
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
