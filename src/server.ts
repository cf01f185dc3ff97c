import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { tracing } from '@opentelemetry/sdk-node';
import { Registry } from 'prom-client';
import type { ServerConfig } from './config/server-config.js';
import { probeDevices } from './backend/device-probe.js';
import { ResponseCache } from './cache/response-cache.js';
import { describeCpu } from './core/cpu-features.js';
import type { DeviceInventory } from './core/execution.js';
import type { Logger } from './core/logger.js';
import type { ExecutionObserver, LogControl } from './core/telemetry.js';
import { ModelRegistry } from './repository/model-registry.js';
import { RepositoryPoller } from './repository/repository-poller.js';
import { SystemSharedMemory } from './shm/system-shared-memory.js';
import { buildVariantsInWorker } from './variants/variant-builder.js';
import { createServable } from './servable-factory.js';
import { registerCacheMetrics } from './telemetry/cache-metrics.js';
import { HostMetrics } from './telemetry/host-metrics.js';
import { LatencySummaries } from './telemetry/latency-summaries.js';
import { ModelMetrics, type MeteredModel } from './telemetry/metrics.js';
import { MetricsServer } from './telemetry/metrics-server.js';
import { otlpSpanExporter } from './telemetry/span-exporter.js';
import { TraceSettings } from './telemetry/trace-settings.js';
import { OrtProfiles } from './telemetry/ort-profiles.js';
import { OtelTracing } from './telemetry/tracing.js';
import { GrpcEndpoint } from './transport/grpc/grpc-server.js';
import { HttpEndpoint } from './transport/http/http-endpoint.js';
import type { ServerState, ServiceContext } from './transport/common/service-context.js';

/** Protocol extensions Nereid implements today (reported by ServerMetadata). */
export const EXTENSIONS: readonly string[] = [
  'sequence',
  'sequence(string_id)',
  'model_repository',
  'model_repository(unload_dependents)',
  'model_configuration',
  'system_shared_memory',
  'statistics',
  'schedule_policy',
  'trace',
  'logging',
  'binary_tensor_data',
];

/** Nereid's version, from package.json. */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServerDependencies {
  readonly logger: Logger;
  /** Run-time control of that logger (LogSettings RPC). */
  readonly logControl: LogControl;
  /** The machine's devices; probed when absent (tests pass their own). */
  readonly devices?: DeviceInventory;
  /** Where spans go; OTLP/HTTP to the configured URL when absent (tests pass an in-memory one). */
  readonly spanExporter?: tracing.SpanExporter;
  /** The Prometheus registry; a fresh one when absent. Never the global registry. */
  readonly metricsRegistry?: Registry;
}

/** Memory this process may use: the machine's, or its cgroup's limit when lower. */
function memoryLimit(): number {
  const constrained = process.constrainedMemory?.();
  return Math.min(totalmem(), constrained !== undefined && constrained > 0 ? constrained : Infinity);
}

/** Why start-up gave up; main.ts exits with status 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * The composition root: wires the registry, model runtimes and the gRPC and HTTP endpoints from a
 * frozen ServerConfig. Two servers can run in one process (tests do); nothing is global.
 */
export class NereidServer implements ServerState {
  private stopping = false;
  private stopped = false;
  /** Set once start-up has loaded the models: ready never answers true before. */
  private started = false;
  private readonly listeners: (() => void)[] = [];
  private readonly endpoint: GrpcEndpoint;
  private readonly http: HttpEndpoint;
  private readonly metricsServer: MetricsServer | undefined;
  private boundPort = 0;
  private boundHttpPort = 0;
  private boundMetricsPort = 0;
  private drainedInTime = true;
  private poller: RepositoryPoller | undefined;
  private hostMetrics: HostMetrics | undefined;
  /** The response cache (--cache-config local,size=N); undefined without one. */
  responseCache: ResponseCache | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly registry: ModelRegistry,
    /** Client shared memory regions (SystemSharedMemory* RPCs and requests that name them). */
    readonly sharedMemory: SystemSharedMemory,
    private readonly logger: Logger,
    private readonly tracing: OtelTracing,
    traceSettings: TraceSettings,
    profiles: OrtProfiles,
    logControl: LogControl,
    metricsRegistry: Registry,
  ) {
    // One context for both front doors: everything below the transport is shared.
    const context: ServiceContext = {
      registry,
      sharedMemory,
      state: this,
      serverName: config.serverName,
      serverVersion: SERVER_VERSION,
      extensions: EXTENSIONS,
      logger,
      telemetry: tracing,
      traceControl: traceSettings,
      profileControl: profiles,
      logControl,
      requestLimits: config.limits.request,
    };
    this.endpoint = new GrpcEndpoint(context, config.grpc);
    this.http = new HttpEndpoint(context, config.http);
    this.metricsServer = config.metrics.enabled ? new MetricsServer(metricsRegistry) : undefined;
  }

  /**
   * Starts listening (so liveness answers during model loading), then loads every model.
   * Throws StartupError when no model loads, or any fails with exitOnError.
   */
  static async start(config: ServerConfig, deps: ServerDependencies): Promise<NereidServer> {
    const logger = deps.logger;
    const devices = deps.devices ?? probeDevices();
    logger.info({ cpuCores: devices.cpuCores, cpu: describeCpu(devices.cpu), gpus: devices.gpuIds, providers: devices.providers }, 'devices');
    const { trace } = config;
    const traceSettings = new TraceSettings(
      { level: trace.level, rate: trace.rate, count: trace.count, mode: 'opentelemetry' },
      { url: trace.exporter.url, ...Object.fromEntries(Object.entries(trace.resource).map(([k, v]) => [`resource.${k}`, v])) },
    );
    const tracer = new OtelTracing({
      settings: traceSettings,
      config: trace,
      exporter: deps.spanExporter ?? otlpSpanExporter(trace.exporter),
      processor: deps.spanExporter !== undefined ? 'simple' : 'batch',
      serviceVersion: SERVER_VERSION,
      logger: logger.child({ component: 'tracing' }),
    });
    const metricsRegistry = deps.metricsRegistry ?? new Registry();
    let registry: ModelRegistry | undefined;
    const metered = (): MeteredModel[] =>
      (registry?.readyModels() ?? []).map((m) => ({
        name: m.info.name,
        version: m.info.version,
        statistics: () => m.servable.statistics(),
        pending: () => m.servable.pending(),
        instances: () => m.servable.instances(),
        sequences: () => m.servable.sequences(),
      }));
    const metrics = new ModelMetrics(metricsRegistry, metered, config.metrics.counterLatencies);
    const summaries = config.metrics.summaryLatencies ? new LatencySummaries(metricsRegistry, config.metrics.summaryQuantiles) : undefined;
    const cache = config.cache !== undefined ? new ResponseCache(config.cache.sizeBytes) : undefined;
    registerCacheMetrics(metricsRegistry, metered, cache, config.metrics.counterLatencies);
    const profiles = new OrtProfiles(config.profileDir, logger.child({ component: 'profiler' }));
    const observer: ExecutionObserver = {
      onExecution(event) {
        profiles.onExecution(event);
        tracer.onExecution(event);
        metrics.onExecution(event);
        summaries?.onExecution(event);
      },
    };
    registry = new ModelRegistry({
      repositories: config.modelRepositories,
      definition: {
        autoComplete: config.autoCompleteConfig,
        defaultMaxBatchSize: config.defaultMaxBatchSize,
        devices,
        maxInstancesPerModel: config.limits.maxInstancesPerModel,
        queueBounds: config.limits.queue,
        memoryBytes: memoryLimit(),
      },
      control: config.modelControl,
      createServable: (spec, log) => createServable(spec, log, observer, cache !== undefined ? { cache, observer: tracer } : undefined, profiles.gate(spec.info.name)),
      buildVariants: buildVariantsInWorker,
      logger,
      onVersionRemoved: (model, version) => {
        metrics.forgetVersion(model, version);
        summaries?.forgetVersion(model, version);
      },
    });
    const sharedMemory = new SystemSharedMemory(config.sharedMemory.allowClient, logger.child({ component: 'shared-memory' }));
    const server = new NereidServer(config, registry, sharedMemory, logger, tracer, traceSettings, profiles, deps.logControl, metricsRegistry);
    server.responseCache = cache;
    if (cache !== undefined) logger.info({ sizeBytes: cache.capacityBytes }, 'response cache on (local)');
    server.poller = new RepositoryPoller(() => registry.poll(), config.modelControl.pollSecs, logger.child({ component: 'repository-poll' }));
    if (config.grpc.enabled) {
      try {
        server.boundPort = await server.endpoint.listen();
      } catch (err) {
        throw new StartupError((err as Error).message);
      }
      logger.info({ address: config.grpc.address, port: server.boundPort, tls: tlsMode(config.grpc.tls) }, 'gRPC endpoint listening');
    } else {
      logger.warn('gRPC endpoint off (--allow-grpc=false)');
    }
    if (config.http.enabled) {
      try {
        server.boundHttpPort = await server.http.listen();
      } catch (err) {
        await server.endpoint.close(0);
        throw new StartupError((err as Error).message);
      }
      logger.info({ address: config.http.address, port: server.boundHttpPort }, 'HTTP endpoint listening');
    } else {
      logger.warn('HTTP endpoint off (--allow-http=false)');
    }
    if (!config.grpc.enabled && !config.http.enabled) logger.warn('no inference endpoint is served (--allow-grpc=false and --allow-http=false), only metrics');
    if (server.metricsServer !== undefined) {
      server.boundMetricsPort = await server.metricsServer.listen(config.metrics.address, config.metrics.port);
      logger.info({ address: config.metrics.address, port: server.boundMetricsPort }, 'metrics endpoint listening (GET /metrics)');
      // GPU metrics only where a GPU is present: elsewhere nvidia-smi is not even tried.
      server.hostMetrics = new HostMetrics(metricsRegistry, {
        cpu: config.metrics.cpu,
        gpu: config.metrics.gpu && devices.gpuIds.length > 0,
        intervalMs: config.metrics.intervalMs,
        logger: logger.child({ component: 'host-metrics' }),
      });
      await server.hostMetrics.start();
    }
    try {
      await registry.loadAtStartup();
      server.checkStartup();
    } catch (err) {
      await server.stop();
      throw err instanceof StartupError ? err : new StartupError((err as Error).message);
    }
    server.started = true;
    server.changed();
    server.poller.start();
    logger.info({ models: registry.index(), modelControl: config.modelControl.mode }, 'server is ready');
    return server;
  }

  /** The bound gRPC port (the real one when the config asked for port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** The bound HTTP port (0 when HTTP is off). */
  get httpPort(): number {
    return this.boundHttpPort;
  }

  /** The bound metrics port (0 when metrics are off). */
  get metricsPort(): number {
    return this.boundMetricsPort;
  }

  /** False if the last stop had to cancel calls that outlived the exit timeout. */
  get drainedGracefully(): boolean {
    return this.drainedInTime;
  }

  isLive(): boolean {
    return !this.stopped;
  }

  isReady(): boolean {
    // Before start-up has even listed the repository, "every model is ready" would hold vacuously.
    if (this.stopping || !this.started) return false;
    return this.config.strictReadiness ? this.registry.allReady() : true;
  }

  isStopping(): boolean {
    return this.stopping;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Graceful stop: readiness and health go NOT_SERVING first, new inference is refused,
   * calls in flight get up to exitTimeoutSecs to finish, then the models unload.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.changed();
    this.logger.info({ graceSecs: this.config.exitTimeoutSecs }, 'shutting down: refusing new requests, finishing those in flight');
    const deadline = Date.now() + this.config.exitTimeoutSecs * 1000;
    const [grpcDrained, httpDrained] = await Promise.all([
      this.endpoint.close(this.config.exitTimeoutSecs * 1000),
      this.http.close(this.config.exitTimeoutSecs * 1000),
    ]);
    this.drainedInTime = grpcDrained && httpDrained;
    if (!this.drainedInTime) this.logger.warn('calls still open after the exit timeout were cancelled');
    await this.poller?.stop();
    await this.registry.unloadAll();
    this.sharedMemory.close();
    await this.hostMetrics?.stop();
    await this.metricsServer?.close();
    // The last spans get what is left of the exit timeout; losing them does not fail the stop.
    await this.tracing.shutdown(deadline - Date.now());
    this.stopped = true;
    this.logger.info('shutdown complete');
  }

  private checkStartup(): void {
    const rows = this.registry.index();
    const failed = rows.filter((r) => r.state !== 'READY' && !(r.state === 'UNAVAILABLE' && r.reason === 'unloaded'));
    if (rows.length > 0 && failed.length === rows.length) {
      throw new StartupError(`no model could be loaded: ${failed.map((r) => r.reason).join('; ')}`);
    }
    if (this.config.exitOnError && failed.length > 0) {
      throw new StartupError(`--exit-on-error: ${failed.map((r) => r.reason).join('; ')}`);
    }
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** How the gRPC endpoint's log line describes its transport security. */
function tlsMode(tls: ServerConfig['grpc']['tls']): string {
  if (tls === undefined) return 'off';
  return tls.mutual ? 'mutual' : 'server';
}
