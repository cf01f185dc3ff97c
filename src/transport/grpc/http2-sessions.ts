import type { Http2Server, Http2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/**
 * Calls `listener` with every HTTP/2 session (client connection) a grpc-js server accepts
 * from now on. grpc-js exposes no hook for this, so it reaches its HTTP/2 servers through a
 * private field; call after bindAsync. Returns false (and registers nothing) if that field is
 * gone, so an upgrade of grpc-js degrades the features built on it instead of breaking serving;
 * their tests notice.
 */
export function onHttp2Sessions(server: Server, listener: (session: Http2Session) => void): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of http2Servers.keys() as IterableIterator<Http2Server>) http2Server.on('session', listener);
  return true;
}
