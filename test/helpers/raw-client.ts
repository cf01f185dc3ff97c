/**
 * A gRPC client that sends bytes as they are, for tests of messages no codec would write:
 * truncated, garbage, or hostile ones. Each call says how it ended, never throws.
 */
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { RawInferenceClient } from '../../scripts/lib/raw-service.js';

/** How a raw call ended: its gRPC code name, details, error id trailer, and the response bytes when OK. */
export interface RawOutcome {
  readonly code: string;
  readonly details: string;
  readonly errorId: string | undefined;
  readonly response?: Buffer;
}


/** The RPCs a RawClient can call. */
export type RawRpc = 'ModelInfer' | 'ServerLive' | 'ModelMetadata' | 'HealthCheck';

/** A client of its own connection (no shared subchannel), sending raw request bytes. */
export class RawClient {
  readonly client: Client;

  constructor(target: string) {
    this.client = new RawInferenceClient(target, credentials.createInsecure(), {
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

  /**
   * Opens ModelStreamInfer, writes `messages` as they are, half-closes, and collects the
   * responses until the stream ends; says how it ended.
   */
  stream(messages: readonly Uint8Array[], deadlineMs = 30_000): Promise<RawOutcome & { responses: Buffer[] }> {
    return new Promise((resolve) => {
      const open = (this.client as unknown as Record<string, (md: Metadata, o: object) => NodeJS.EventEmitter & { write(b: Buffer): void; end(): void }>)['ModelStreamInfer']!;
      const call = open.call(this.client, new Metadata(), { deadline: Date.now() + deadlineMs });
      const responses: Buffer[] = [];
      call.on('data', (response: Buffer) => responses.push(response));
      call.on('error', (err: ServiceError) => {
        resolve({ code: status[err.code] ?? String(err.code), details: err.details, errorId: err.metadata?.get('nereid-error-id')[0]?.toString(), responses });
      });
      call.on('status', (s: { code: number }) => {
        if (s.code === status.OK) resolve({ code: 'OK', details: '', errorId: undefined, responses });
      });
      for (const message of messages) call.write(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}
