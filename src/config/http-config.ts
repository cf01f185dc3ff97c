import type { HttpConfig } from './server-config.js';
import type { ValueReaders } from './value-readers.js';

/**
 * The HTTP/REST endpoint's settings, with Triton's flags and defaults: served unless
 * --allow-http=false, on 0.0.0.0:8000. --http-thread-count is accepted for command lines
 * copied from Triton and changes nothing (with a warning): Node's one event loop serves HTTP
 * as it serves gRPC, and the models run on their instances' worker threads, so there is no
 * pool of HTTP threads to size.
 */
export function readHttpConfig(read: ValueReaders): HttpConfig {
  if (read.given('http-thread-count') !== undefined) {
    read.int('http-thread-count', 0, 0, 1_000_000);
    read.warn(
      'http-thread-count',
      `${read.label('http-thread-count')} changes nothing here: Node's event loop serves HTTP (as it serves gRPC) and models run on their instances' worker threads, so there are no HTTP threads to size`,
    );
  }
  return {
    enabled: read.bool('allow-http', true),
    address: read.str('http-address', '0.0.0.0'),
    port: read.int('http-port', 8000, 0, 65535),
  };
}
