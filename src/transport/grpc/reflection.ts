import { fileURLToPath } from 'node:url';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** proto/ at the project root: three levels up from here, in src/ and in the built dist/. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

/**
 * Serves gRPC server reflection (v1 and v1alpha) for our protos, so grpcurl and Postman
 * can list and call the API without local .proto files. The descriptors come from
 * proto/ through @grpc/proto-loader, not from the generated stubs.
 */
export function addReflection(server: Server): void {
  const definition = loadSync(['grpc_service.proto', 'health.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  new ReflectionService(definition).addToServer(server);
}
