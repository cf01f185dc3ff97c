/**
 * A gRPC client built at run time from proto/ with @grpc/proto-loader, independent of the
 * server's ts-proto stubs, so a codegen mistake cannot hide on both sides.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

const definition = loadSync(['grpc_service.proto', 'health.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

/** Call options a test may set. */
export interface CallOptions {
  deadlineMs?: number;
  metadata?: grpc.Metadata;
}

/** The error a failed call rejects with: gRPC code and details. */
export type CallError = grpc.ServiceError;

type Message = Record<string, unknown>;

/** Promise-based access to every unary RPC by its proto name (ModelInfer, ServerLive, ...); used by tests, npm run infer and the benchmark. */
export class ProtoClient {
  readonly inference: grpc.Client;
  readonly health: grpc.Client;

  /** `credentials`: TLS for a server started with --grpc-use-ssl; `channelOptions` add to the defaults. */
  constructor(
    readonly target: string,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    channelOptions: grpc.ChannelOptions = {},
  ) {
    const options = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, ...channelOptions };
    this.inference = new loaded.inference.GRPCInferenceService(target, credentials, options);
    this.health = new loaded.grpc.health.v1.Health(target, credentials, options);
  }

  /** Calls an RPC of GRPCInferenceService. */
  call<T = Message>(rpc: string, request: Message, options: CallOptions = {}): Promise<T> {
    return unaryCall<T>(this.inference, rpc, request, options);
  }

  /** Like call, but returns the call handle too so a test can cancel it. */
  start<T = Message>(rpc: string, request: Message, options: CallOptions = {}): { call: grpc.ClientUnaryCall; result: Promise<T> } {
    let call!: grpc.ClientUnaryCall;
    const result = new Promise<T>((resolve, reject) => {
      call = invoke(this.inference, rpc, request, options, (err, response) => (err === null ? resolve(response as T) : reject(err)));
    });
    return { call, result };
  }

  healthCheck(service: string): Promise<{ status: string }> {
    return unaryCall(this.health, 'Check', { service }, {});
  }

  close(): void {
    this.inference.close();
    this.health.close();
  }
}

function unaryCall<T>(client: grpc.Client, rpc: string, request: Message, options: CallOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke(client, rpc, request, options, (err, response) => (err === null ? resolve(response as T) : reject(err)));
  });
}

function invoke(
  client: grpc.Client,
  rpc: string,
  request: Message,
  options: CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
): grpc.ClientUnaryCall {
  const method = (client as unknown as Record<string, Function>)[rpc];
  if (method === undefined) throw new Error(`no RPC ${rpc}`);
  const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return method.call(client, request, options.metadata ?? new grpc.Metadata(), callOptions, callback) as grpc.ClientUnaryCall;
}
