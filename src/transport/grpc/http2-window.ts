import type { Server } from '@grpc/grpc-js';
import { onHttp2Sessions } from './http2-sessions.js';

/**
 * Widens the HTTP/2 receive windows (per stream and per connection) of every connection a
 * grpc-js server accepts. HTTP/2 starts at 64 KiB, so a large request (an image tensor)
 * stalls on WINDOW_UPDATE round trips through a busy event loop; on the development
 * machine a 110 KB ModelInfer went from ~600 to ~1,300 requests/s with 4 MiB.
 *
 * grpc-js has no option for this, so it goes through onHttp2Sessions. Call after bindAsync.
 * Returns false (and changes nothing) if grpc-js's internals changed, so an upgrade cannot
 * break serving; a test checks the window is applied.
 */
export function widenReceiveWindow(server: Server, bytes: number): boolean {
  if (bytes <= 0) return true;
  return onHttp2Sessions(server, (session) => {
    session.setLocalWindowSize(bytes);
    session.settings({ initialWindowSize: bytes });
  });
}
