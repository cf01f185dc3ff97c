/**
 * A gRPC client that sends bytes as they are, for tests of messages no codec would write:
 * truncated, garbage, or hostile ones. Each call says how it ended, never throws.
 */
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';

/** How a raw call ended: its gRPC code name, details, error id trailer, and the response bytes when OK. */
export interface RawOutcome {
  readonly code: string;
  readonly details: string;
  readonly errorId: string | undefined;
  readonly response?: Buffer;
}

const identity = (b: Buffer) => b;
const method = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const RawService = makeGenericClientConstructor(
  {
    ModelInfer: method('/inference.GRPCInferenceService/ModelInfer'),
    ServerLive: method('/inference.GRPCInferenceService/ServerLive'),
    ModelMetadata: method('/inference.GRPCInferenceService/ModelMetadata'),
    HealthCheck: method('/grpc.health.v1.Health/Check'),
  },
  'Raw',
);

/** The RPCs a RawClient can call. */
export type RawRpc = 'ModelInfer' | 'ServerLive' | 'ModelMetadata' | 'HealthCheck';

/** A client of its own connection (no shared subchannel), sending raw request bytes. */
export class RawClient {
  readonly client: Client;

  constructor(target: string) {
    this.client = new RawService(target, credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  call(rpc: RawRpc, bytes: Uint8Array, deadlineMs = 30_000): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const invoke = (this.client as unknown as Record<RawRpc, (m: Buffer, md: Metadata, o: object, cb: (e: ServiceError | null, r?: Buffer) => void) => void>)[rpc];
      invoke.call(this.client, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), new Metadata(), { deadline: Date.now() + deadlineMs }, (err, response) => {
        if (err === null) resolve({ code: 'OK', details: '', errorId: undefined, response: response! });
        else resolve({ code: status[err.code] ?? String(err.code), details: err.details, errorId: err.metadata?.get('nereid-error-id')[0]?.toString() });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
