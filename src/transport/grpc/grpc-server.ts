import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { HealthService } from '../../generated/health.js';
import { healthService } from './health-service.js';
import { onHttp2Sessions } from './http2-sessions.js';
import { widenReceiveWindow } from './http2-window.js';
import { inferHandler } from './infer-handler.js';
import { scanInferRequest } from './infer-request-scan.js';
import { metadataHandlers } from './metadata-handlers.js';
import { applyPingPolicy } from './ping-policy.js';
import { addReflection } from './reflection.js';
import { repositoryHandlers } from './repository-handlers.js';
import { addService } from './request-decoding.js';
import { inferenceServiceDefinition } from './service-definitions.js';
import { settingsHandlers } from './settings-handlers.js';
import { sharedMemoryHandlers } from './shared-memory-handlers.js';
import { statisticsHandler } from './statistics-handler.js';
import { streamInferHandler } from './stream-infer-handler.js';
import type { ServiceContext } from './service-context.js';
import { TlsCertificates, type TlsFiles } from './tls-credentials.js';

const INT32_MAX = 2 ** 31 - 1;

/** Listening options for the gRPC endpoint. */
export interface GrpcOptions {
  readonly address: string;
  readonly port: number;
  /** Triton-compatible keepalive: a ping this many ms after the last answer (ping-policy.ts). */
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly keepalivePermitWithoutCalls: boolean;
  readonly http2MaxPingsWithoutData: number;
  readonly http2MinRecvPingIntervalWithoutDataMs: number;
  readonly http2MaxPingStrikes: number;
  /** Close connections after this long (0 = never), so meshes rebalance long-lived clients. */
  readonly maxConnectionAgeMs: number;
  /** How long calls may outlive the maximum age before the connection is cut; undefined = no limit. */
  readonly maxConnectionAgeGraceMs: number | undefined;
  /** TLS certificate files; undefined = plain text. */
  readonly tls: TlsFiles | undefined;
  /** HTTP/2 receive window per stream and connection, in bytes (0 = HTTP/2's 64 KiB). */
  readonly receiveWindowBytes: number;
}

/**
 * The gRPC endpoint: GRPCInferenceService, grpc.health.v1 and reflection on one port.
 * Responses may be as large as Triton's (2 GiB - 1); requests are bounded by --grpc-max-receive-message-bytes.
 */
export class GrpcEndpoint {
  private readonly server: Server;
  private readonly health: ReturnType<typeof healthService>;
  private readonly streams: ReturnType<typeof streamInferHandler>;
  private tls: TlsCertificates | undefined;

  constructor(
    private readonly context: ServiceContext,
    private readonly options: GrpcOptions,
  ) {
    const channelOptions: ChannelOptions = {
      // grpc-js refuses a longer message from its length prefix, before reading it (RESOURCE_EXHAUSTED).
      'grpc.max_receive_message_length': context.requestLimits.maxMessageBytes,
      'grpc.max_send_message_length': INT32_MAX,
      // Keepalive is ping-policy.ts's (grpc-js's own cannot skip idle connections or count strikes).
      ...(options.maxConnectionAgeMs > 0 ? { 'grpc.max_connection_age_ms': options.maxConnectionAgeMs } : {}),
      ...(options.maxConnectionAgeGraceMs !== undefined ? { 'grpc.max_connection_age_grace_ms': options.maxConnectionAgeGraceMs } : {}),
    };
    this.server = new Server(channelOptions);
    this.streams = streamInferHandler(context);
    const limits = context.requestLimits;
    // Undecodable requests are the client's error (request-decoding.ts); inference requests' limits are checked before decoding.
    addService(this.server, inferenceServiceDefinition(), {
      ...metadataHandlers(context),
      ...inferHandler(context),
      ...statisticsHandler(context),
      ...settingsHandlers(context),
      ...repositoryHandlers(context),
      ...sharedMemoryHandlers(context),
      ...this.streams.handler,
    }, { modelInfer: (bytes) => scanInferRequest(bytes, limits), modelStreamInfer: (bytes) => scanInferRequest(bytes, limits) });
    this.health = healthService(context);
    addService(this.server, HealthService, this.health.service);
    addReflection(this.server);
  }

  /**
   * Binds and starts serving; resolves with the bound port (useful with port 0). With TLS,
   * reads the certificate files first (rejecting with the reason) and then watches them.
   */
  async listen(): Promise<number> {
    const target = `${this.options.address.includes(':') ? `[${this.options.address}]` : this.options.address}:${this.options.port}`;
    const { tls } = this.options;
    if (tls !== undefined) this.tls = await TlsCertificates.load(tls, this.context.logger.child({ component: 'tls' }));
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(target, this.tls?.credentials ?? ServerCredentials.createInsecure(), (err, bound) => {
        if (err !== null) reject(new Error(`cannot listen for gRPC on ${target}: ${err.message}`));
        else resolve(bound);
      });
    });
    if (!widenReceiveWindow(this.server, this.options.receiveWindowBytes)) {
      this.context.logger.warn('could not widen the HTTP/2 receive window (grpc-js internals changed); large requests will be slower');
    }
    const pingOptions = {
      keepaliveTimeMs: this.options.keepaliveTimeMs,
      keepaliveTimeoutMs: this.options.keepaliveTimeoutMs,
      permitWithoutCalls: this.options.keepalivePermitWithoutCalls,
      maxPingsWithoutData: this.options.http2MaxPingsWithoutData,
      minRecvPingIntervalWithoutDataMs: this.options.http2MinRecvPingIntervalWithoutDataMs,
      maxPingStrikes: this.options.http2MaxPingStrikes,
    };
    if (!onHttp2Sessions(this.server, (session) => applyPingPolicy(session, pingOptions))) {
      this.context.logger.warn('could not apply the keepalive and ping policy (grpc-js internals changed); connections get no keepalive pings');
    }
    this.tls?.watch();
    return port;
  }

  /**
   * Stops accepting connections and waits for calls in flight to finish, up to
   * `graceMs`; then cancels whatever is left. Resolves true when everything drained in time.
   */
  async close(graceMs: number): Promise<boolean> {
    this.tls?.stop();
    this.health.endWatches();
    this.streams.drain();
    const graceful = new Promise<boolean>((resolve) => this.server.tryShutdown(() => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve(false);
      }, graceMs);
    });
    const drained = await Promise.race([graceful, forced]);
    clearTimeout(timer);
    return drained;
  }
}
