import type { QueueBounds } from '../core/batching-policy.js';
import type { RequestLimits } from '../core/request-limits.js';

/**
 * What one request, one model's queue and one model's instances may take, so that no
 * client and no config can make the server hold memory without bound. Defaults and their
 * trade-offs are in the README ("Limits").
 */
export interface LimitsConfig {
  readonly request: RequestLimits;
  /** Queue bounds for models whose config sets no max_queue_size (and for FIFO models). */
  readonly queue: QueueBounds;
  /** Most instances one model may start, all its groups together; 0 = 4 per CPU core, at least 16. */
  readonly maxInstancesPerModel: number;
}

const INT32_MAX = 2 ** 31 - 1;
const MiB = 1024 * 1024;

/** Defaults, as the flag table shows them. */
export const LIMIT_DEFAULTS = {
  maxMessageBytes: 64 * MiB,
  maxInputs: 1024,
  maxTensorElements: 16 * MiB,
  maxTypedElements: MiB,
  maxBytesElementBytes: 16 * MiB,
  maxNameBytes: 1024,
  maxQueueSize: 1024,
  maxQueueBytes: 256 * MiB,
  maxInstancesPerModel: 0,
} as const;

/** Reads an integer flag (or its NEREID_* variable) in [min, max], else the fallback. */
type IntReader = (name: string, fallback: number, min: number, max: number) => number;

/** Reads the limit flags; `int` throws ConfigError naming a bad one. */
export function readLimitsConfig(int: IntReader): LimitsConfig {
  const d = LIMIT_DEFAULTS;
  return {
    request: {
      maxMessageBytes: int('grpc-max-receive-message-bytes', d.maxMessageBytes, 1024, INT32_MAX),
      maxInputs: int('max-request-inputs', d.maxInputs, 1, INT32_MAX),
      maxTensorElements: int('max-tensor-elements', d.maxTensorElements, 1, 2 ** 53 - 1),
      maxTypedElements: int('max-typed-elements', d.maxTypedElements, 0, 2 ** 53 - 1),
      maxBytesElementBytes: int('max-bytes-element-bytes', d.maxBytesElementBytes, 0, INT32_MAX),
      maxNameBytes: int('max-request-name-bytes', d.maxNameBytes, 1, INT32_MAX),
    },
    queue: {
      maxQueueSize: int('max-queue-size', d.maxQueueSize, 0, INT32_MAX),
      maxQueueBytes: int('max-queue-bytes', d.maxQueueBytes, 0, 2 ** 53 - 1),
    },
    maxInstancesPerModel: int('max-instances-per-model', d.maxInstancesPerModel, 0, 100_000),
  };
}
