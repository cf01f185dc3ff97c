import type { IncomingMessage, ServerResponse } from 'node:http';
import { InferError } from '../../core/errors.js';
import type { RequestLimits } from '../../core/request-limits.js';
import { scanJsonValues } from './json-scan.js';
import type { InputArena } from '../common/input-arena.js';
import { decodeBody, isIdentity, readBody, readPooledBody, type PooledBody } from './request-body.js';

/** What a route handler answers: a status, a body (JSON text or bytes in order) and extra headers. */
export interface Reply {
  readonly status: number;
  readonly body?: string | readonly Uint8Array[];
  readonly headers?: Readonly<Record<string, string | number>>;
}

/** One HTTP request as a route handler sees it. Main thread only. */
export class HttpCall {
  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    /** The route's captures, percent-decoded (model name, version, region, ...). */
    readonly params: readonly string[],
    /** The request limits: the body's size (--grpc-max-receive-message-bytes) and what its JSON may hold. */
    readonly limits: RequestLimits,
  ) {}

  /** A request header as one string (the first, when repeated). */
  header(name: string): string | undefined {
    const value = this.request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** The body, decompressed (Content-Encoding gzip or deflate), bounded by the request size limit. */
  async body(): Promise<Buffer> {
    const max = this.limits.maxMessageBytes;
    return decodeBody(await readBody(this.request, max), this.header('content-encoding'), max);
  }

  /**
   * As body(), a large one in memory from `pool` (request-body.ts readPooledBody), with the
   * function that gives it back. A compressed body's pooled bytes go back once inflated.
   */
  async pooledBody(pool: InputArena): Promise<PooledBody> {
    const max = this.limits.maxMessageBytes;
    const read = await readPooledBody(this.request, max, pool);
    const encoding = this.header('content-encoding');
    if (isIdentity(encoding)) return read;
    try {
      return { body: await decodeBody(read.body, encoding, max), release: () => {} };
    } finally {
      read.release();
    }
  }

  /** The body parsed as JSON; undefined when empty (Triton reads an empty body as "all defaults"). */
  async json(): Promise<unknown> {
    const body = await this.body();
    return body.length === 0 ? undefined : parseJson(body, this.limits);
  }
}

/**
 * Parses request JSON, failing with Triton's text as a client error, once a scan of its
 * bytes (json-scan.ts) showed that parsing it allocates no more than the limits allow.
 */
export function parseJson(bytes: Uint8Array, limits: RequestLimits): unknown {
  scanJsonValues(bytes, limits);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new InferError('REQUEST_MALFORMED', `failed to parse the request JSON buffer: ${(err as Error).message}`);
  }
}

/** A JSON object from a request body (absent = {}), else a client error naming what was expected. */
export function jsonObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InferError('REQUEST_MALFORMED', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
