import type { Http2Server, Http2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/**
 * Widens the HTTP/2 receive windows (per stream and per connection) of every connection a
 * grpc-js server accepts. HTTP/2 starts at 64 KiB, so a large request (an image tensor)
 * stalls on WINDOW_UPDATE round trips through a busy event loop; on the development
 * machine a 110 KB ModelInfer went from ~600 to ~1,300 requests/s with 4 MiB.
 *
 * grpc-js has no option for this, so it reaches its HTTP/2 servers through a private
 * field. Call after bindAsync. Returns false (and changes nothing) if that field is gone,
 * so an upgrade of grpc-js cannot break serving; a test checks the window is applied.
 */
export function widenReceiveWindow(server: Server, bytes: number): boolean {
  if (bytes <= 0) return true;
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of http2Servers.keys() as IterableIterator<Http2Server>) {
    http2Server.on('session', (session: Http2Session) => {
      session.setLocalWindowSize(bytes);
      session.settings({ initialWindowSize: bytes });
    });
  }
  return true;
}
