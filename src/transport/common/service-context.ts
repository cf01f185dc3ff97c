import type { Logger } from '../../core/logger.js';
import type { ProfileControl } from '../../core/profiling.js';
import type { RequestLimits } from '../../core/request-limits.js';
import type { LogControl, RequestTelemetry, TraceControl } from '../../core/telemetry.js';
import type { ModelRegistry } from '../../repository/model-registry.js';
import type { SystemSharedMemory } from '../../shm/system-shared-memory.js';

/** Server-wide state the handlers read; implemented by server.ts. Main thread only. */
export interface ServerState {
  /** Live: the process is up (false only after shutdown has finished). */
  isLive(): boolean;
  /** Ready: accepting inference (with --strict-readiness, only when every model is ready). */
  isReady(): boolean;
  /** Shutdown has begun: new inference is refused. */
  isStopping(): boolean;
  /** Registers a callback for any change that can alter readiness. */
  onChange(listener: () => void): void;
}

/** Everything the services of either transport (gRPC, HTTP) need, passed in by server.ts (no globals). */
export interface ServiceContext {
  readonly registry: ModelRegistry;
  /** Registered system shared memory regions (inputs and outputs of requests that name them). */
  readonly sharedMemory: SystemSharedMemory;
  readonly state: ServerState;
  readonly serverName: string;
  readonly serverVersion: string;
  /** Protocol extensions actually implemented, reported by ServerMetadata (and GET /v2). */
  readonly extensions: readonly string[];
  readonly logger: Logger;
  readonly telemetry: RequestTelemetry;
  readonly traceControl: TraceControl;
  /** ONNX Runtime profiles on demand (TraceSetting's nereid_profile_* keys). */
  readonly profileControl: ProfileControl;
  readonly logControl: LogControl;
  /** What one request may make the server hold; checked before it is decoded. */
  readonly requestLimits: RequestLimits;
}
