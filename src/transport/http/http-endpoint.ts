import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServiceContext } from '../common/service-context.js';
import { controlHandlers, type Handler } from './control-routes.js';
import { HttpCall, type Reply } from './http-call.js';
import { errorBody, toHttpError } from './http-status.js';
import { inferRoute } from './infer-route.js';
import { BodyTooLarge } from './request-body.js';
import { routeTable, type Route } from './routes.js';

/** Listening options for the HTTP endpoint. */
export interface HttpOptions {
  readonly address: string;
  readonly port: number;
}

/**
 * How long an idle keep-alive connection stays open: longer than the 60 s idle timeout of
 * common load balancers, so that they, not the server, close idle connections (a server
 * closing first races the balancer's next request). Node's default is 5 s.
 */
export const KEEP_ALIVE_MS = 65_000;

/**
 * The HTTP/REST endpoint (KServe v2 REST with Triton's extensions) on node:http: HTTP/1.1
 * with keep-alive and pipelining (node answers pipelined requests in order). Bodies are
 * bounded by the request size limit (--grpc-max-receive-message-bytes, shared with gRPC),
 * compressed or not. Errors are Triton's `{"error": "..."}` with the status http-status.ts
 * maps from the core's error code; unknown routes are 404 "Not Found", a known route with
 * the wrong method 405 "Method Not Allowed", as in Triton. Main thread only.
 */
export class HttpEndpoint {
  private readonly server: Server;
  private readonly routes: readonly Route[];
  /** Requests being handled (their responses not yet closed). */
  private readonly active = new Set<ServerResponse>();
  private stopping = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly context: ServiceContext,
    private readonly options: HttpOptions,
  ) {
    this.routes = routeTable(controlHandlers(context), inferRoute(context));
    this.server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => this.handle(request, response));
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    const { address, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`cannot listen for HTTP on ${address}:${port}: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(port, address, () => {
        this.server.off('error', onError);
        const bound = this.server.address();
        resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
      });
    });
  }

  /**
   * Stops accepting connections, closes idle ones, and lets requests in flight finish (their
   * responses close their connections), up to `graceMs`; then closes whatever is left.
   * Resolves true when everything drained in time.
   */
  async close(graceMs: number): Promise<boolean> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Answers still to come close their connections, so that keep-alive clients reconnect elsewhere.
    for (const response of this.active) response.shouldKeepAlive = false;
    const idle = this.active.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const inTime = await Promise.race([idle.then(() => true as const), expired]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
    return inTime;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.active.add(response);
    if (this.stopping) response.shouldKeepAlive = false;
    response.once('close', () => {
      this.active.delete(response);
      if (this.stopping) {
        this.server.closeIdleConnections();
        if (this.active.size === 0) this.drained?.();
      }
    });
    const url = request.url ?? '/';
    const path = url.split('?', 1)[0]!;
    const match = this.match(path);
    if (match === undefined) return this.send(response, { status: 404, body: errorBody('Not Found') });
    const handler: Handler | undefined = match.route.methods[request.method ?? ''];
    if (handler === undefined) return this.send(response, { status: 405, body: errorBody('Method Not Allowed'), headers: { allow: Object.keys(match.route.methods).join(', ') } });
    let params: string[];
    try {
      params = match.captures.map((c) => (c === undefined ? '' : decodeURIComponent(c)));
    } catch {
      return this.send(response, { status: 400, body: errorBody(`malformed percent-encoding in the path ${JSON.stringify(path.slice(0, 256))}`) });
    }
    const call = new HttpCall(request, response, params, this.context.requestLimits);
    Promise.resolve()
      .then(() => handler(call))
      .then(
        (reply) => this.send(response, reply),
        (err: unknown) => {
          const failure = toHttpError(err);
          // An unread body (refused as too large) would be parsed as the next request: close instead.
          if (failure.error instanceof BodyTooLarge) response.shouldKeepAlive = false;
          const headers: Record<string, string> = { 'nereid-error-id': failure.error.id };
          if (failure.error.id === 'UNSUPPORTED' && failure.error.message === 'Unsupported compression type') headers['accept-encoding'] = 'gzip, deflate';
          this.send(response, { status: failure.status, body: failure.body, headers });
        },
      );
  }

  private match(path: string): { route: Route; captures: (string | undefined)[] } | undefined {
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (found !== null) return { route, captures: found.slice(1) };
    }
    return undefined;
  }

  private send(response: ServerResponse, reply: Reply): void {
    if (response.headersSent || response.destroyed) return;
    const parts = reply.body === undefined ? [] : typeof reply.body === 'string' ? [Buffer.from(reply.body)] : reply.body;
    let length = 0;
    for (const part of parts) length += part.byteLength;
    const type = typeof reply.body === 'string' || reply.status >= 400 ? { 'content-type': 'application/json' } : {};
    response.writeHead(reply.status, { ...type, ...reply.headers, 'content-length': length });
    if (parts.length > 1) response.cork();
    for (const part of parts) response.write(part);
    response.end();
  }
}
