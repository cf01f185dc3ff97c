/** A real OTLP/HTTP receiver on a loopback port 0, keeping what it was sent. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface OtlpPost {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body, gunzipped when it came with content-encoding: gzip. */
  readonly body: Buffer;
}

export interface OtlpSink {
  /** The base URL, e.g. http://127.0.0.1:41234 (OTEL_EXPORTER_OTLP_ENDPOINT appends /v1/traces). */
  readonly url: string;
  readonly posts: OtlpPost[];
  /** Resolves once `n` posts have arrived. */
  received(n: number): Promise<void>;
  /** Span names and resource attributes of the JSON posts. */
  jsonSpans(): { name: string; traceId: string; resource: Record<string, string> }[];
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const posts: OtlpPost[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      posts.push({ path: request.url ?? '', headers: request.headers, body: request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw });
      for (const wake of waiters.splice(0)) wake();
      // An empty ExportTraceServiceResponse in the request's encoding.
      if (request.headers['content-type'] === 'application/json') response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    async received(n) {
      while (posts.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    jsonSpans() {
      type Json = { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] };
      return posts.flatMap((post) =>
        (JSON.parse(post.body.toString()) as Json).resourceSpans.flatMap((r) => {
          const resource = Object.fromEntries(r.resource.attributes.map((a) => [a.key, a.value.stringValue ?? '']));
          return r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ name: span.name, traceId: span.traceId, resource })));
        }),
      );
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
