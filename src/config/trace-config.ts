import type { TraceConfig } from './server-config.js';
import { MAX_MILLIS, otlpProtocol, otlpUrl, readOtelEnvironment, type FlagSetting } from './otel-environment.js';

const DEFAULT_URL = 'http://localhost:4318/v1/traces';
/** OTLP/gRPC's default endpoint (the collector's 4317). */
const DEFAULT_GRPC_URL = 'http://localhost:4317';
/** OpenTelemetry's default for OTLP exporters; smaller and cheaper to encode than JSON. */
const DEFAULT_PROTOCOL = 'http/protobuf';
/** Triton's default rate; with OTEL_TRACES_SAMPLER set the sampler decides alone (rate 1) unless rate is given. */
const DEFAULT_RATE = 1000;
/** OpenTelemetry's defaults: OTLP export timeout, and the batch span processor's limits. */
const DEFAULT_TIMEOUT_MILLIS = 10_000;
const DEFAULT_BATCH: TraceConfig['batch'] = { maxQueueSize: 2048, scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000, maxExportBatchSize: 512 };
/** The sampling OpenTelemetry's SDK does when OTEL_TRACES_SAMPLER is unset; Triton's rate then picks the roots. */
const DEFAULT_SAMPLER = { name: 'parentbased_always_on', parentBased: true, ratio: 1 } as const;

const BSP_KEYS = {
  bsp_max_queue_size: { setting: 'maxQueueSize', min: 1 },
  bsp_schedule_delay: { setting: 'scheduledDelayMillis', min: 0 },
  bsp_max_export_batch_size: { setting: 'maxExportBatchSize', min: 1 },
} as const;

/** What --trace-config entries set. */
interface GivenSettings {
  level?: TraceConfig['level'];
  rate?: number;
  count?: number;
  url?: string;
  protocol?: TraceConfig['exporter']['protocol'];
  resource: Record<string, string>;
  batch: { -readonly [K in keyof TraceConfig['batch']]?: number };
}

/**
 * Reads Triton-style `--trace-config` entries (each `key=value`, several per flag joined by
 * commas; an `opentelemetry,` prefix marks OpenTelemetry options) on top of the standard
 * OTEL_* variables (otel-environment.ts); an entry wins over a variable for the same
 * setting. Every value comes out explicit. Throws Error with a message naming the bad entry
 * (prefixed with `flag`, how the user wrote --trace-config) or the bad variable.
 */
export function parseTraceConfig(entries: readonly string[], env: NodeJS.ProcessEnv, flag = '--trace-config'): TraceConfig {
  let given: GivenSettings;
  try {
    given = parseEntries(entries);
  } catch (err) {
    throw new Error(`${flag}: ${(err as Error).message}`);
  }
  const overridden = new Set<FlagSetting>();
  if (given.url !== undefined) overridden.add('url');
  if (given.protocol !== undefined) overridden.add('protocol');
  for (const key of Object.keys(given.batch) as FlagSetting[]) overridden.add(key);
  const otel = readOtelEnvironment(env, overridden);

  const batch = { ...DEFAULT_BATCH, ...otel.batch, ...given.batch };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    const source = (setting: 'maxExportBatchSize' | 'maxQueueSize', key: string, variable: string) => {
      if (given.batch[setting] !== undefined) return `${key}=${batch[setting]} in ${flag}`;
      if (otel.batch[setting] !== undefined) return `${variable}=${batch[setting]}`;
      return `${batch[setting]} by default`;
    };
    throw new Error(
      `the span export batch (${source('maxExportBatchSize', 'bsp_max_export_batch_size', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE')}) is larger than the span queue ` +
        `(${source('maxQueueSize', 'bsp_max_queue_size', 'OTEL_BSP_MAX_QUEUE_SIZE')}); it must not be`,
    );
  }
  const protocol = given.protocol ?? otel.protocol ?? DEFAULT_PROTOCOL;
  const url = given.url ?? (protocol === 'grpc' ? (otel.grpcUrl === undefined ? undefined : otlpUrl(otel.grpcUrl, grpcEndpointVariable(env))) : otel.url);
  return {
    level: given.level ?? 'OFF',
    rate: given.rate ?? (otel.sampler !== undefined ? 1 : DEFAULT_RATE),
    count: given.count ?? -1,
    disabledBy: otel.disabledBy,
    sampler: otel.sampler ?? DEFAULT_SAMPLER,
    propagate: otel.propagate,
    exporter: {
      url: url ?? (protocol === 'grpc' ? DEFAULT_GRPC_URL : DEFAULT_URL),
      protocol,
      headers: otel.headers,
      timeoutMillis: otel.timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS,
      compression: otel.compression ?? 'none',
      certificate: otel.certificate,
      clientCertificate: otel.clientCertificate,
      clientKey: otel.clientKey,
    },
    resource: { ...otel.resource, ...given.resource },
    batch,
    limits: otel.limits,
  };
}

function parseEntries(entries: readonly string[]): GivenSettings {
  const given: GivenSettings = { resource: {}, batch: {} };
  const integer = (key: string, raw: string, min: number, max = MAX_MILLIS) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) throw new Error(`invalid value '${raw}' for ${key}: expected an integer from ${min} to ${max}`);
    return value;
  };
  for (const token of entries.flatMap((e) => e.split(','))) {
    const item = token.trim();
    if (item === '' || item === 'opentelemetry') continue;
    if (item === 'triton') throw new Error("trace mode 'triton' is not supported; Nereid traces with OpenTelemetry (mode=opentelemetry)");
    const eq = item.indexOf('=');
    if (eq < 0) throw new Error(`invalid entry '${item}': expected key=value`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    switch (key) {
      case 'level':
        if (value !== 'OFF' && value !== 'TIMESTAMPS') {
          throw new Error(`invalid value '${value}' for level: expected OFF or TIMESTAMPS (TENSORS is not supported in OpenTelemetry mode)`);
        }
        given.level = value;
        break;
      case 'rate':
        given.rate = integer(key, value, 0);
        break;
      case 'count':
        given.count = integer(key, value, -1);
        break;
      case 'mode':
        if (value !== 'opentelemetry') throw new Error(`invalid value '${value}' for mode: Nereid supports mode=opentelemetry only`);
        break;
      case 'url':
        given.url = otlpUrl(value, key);
        break;
      case 'protocol':
        given.protocol = otlpProtocol(value, key);
        break;
      case 'resource': {
        const inner = value.indexOf('=');
        if (inner < 1) throw new Error(`invalid value '${value}' for resource: expected key=value`);
        given.resource[value.slice(0, inner)] = value.slice(inner + 1);
        break;
      }
      case 'bsp_max_queue_size':
      case 'bsp_schedule_delay':
      case 'bsp_max_export_batch_size': {
        const { setting, min } = BSP_KEYS[key];
        given.batch[setting] = integer(key, value, min);
        break;
      }
      default:
        throw new Error(`unknown key '${key}'; known: level, rate, count, mode, url, protocol, resource, ${Object.keys(BSP_KEYS).join(', ')}`);
    }
  }
  return given;
}

/** The variable the OTLP/gRPC endpoint came from (the traces one wins), for error messages. */
function grpcEndpointVariable(env: NodeJS.ProcessEnv): string {
  return env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
}
