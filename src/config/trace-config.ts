import type { ServerConfig } from './server-config.js';

type TraceConfig = ServerConfig['trace'];

const DEFAULT_URL = 'http://localhost:4318/v1/traces';
/** OpenTelemetry's default for OTLP exporters; smaller and cheaper to encode than JSON. */
const DEFAULT_PROTOCOL = 'http/protobuf';

/**
 * Reads Triton-style `--trace-config` entries (each `key=value`, several per flag joined by
 * commas; an `opentelemetry,` prefix marks OpenTelemetry options) on top of the standard
 * OTEL_* variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT for the
 * URL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL for the encoding,
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES for the resource. Throws Error with a
 * message naming the bad entry.
 */
export function parseTraceConfig(entries: readonly string[], env: NodeJS.ProcessEnv): TraceConfig {
  let level: TraceConfig['level'] = 'OFF';
  let rate = 1000;
  let count = -1;
  let url = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? (env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined ? `${env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/$/, '')}/v1/traces` : DEFAULT_URL);
  const protocolVariable = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const fromEnv = env[protocolVariable];
  let protocol = fromEnv === undefined || fromEnv === '' ? DEFAULT_PROTOCOL : otlpProtocol(fromEnv, protocolVariable);
  const resource: Record<string, string> = { 'service.name': env['OTEL_SERVICE_NAME'] ?? 'nereid' };
  for (const pair of (env['OTEL_RESOURCE_ATTRIBUTES'] ?? '').split(',').filter(Boolean)) {
    const [key, ...value] = pair.split('=');
    if (key !== undefined && value.length > 0) resource[key.trim()] = decodeURIComponent(value.join('=').trim());
  }
  const batch: { maxQueueSize?: number; scheduledDelayMillis?: number; maxExportBatchSize?: number } = {};
  const integer = (key: string, raw: string, min: number) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min) throw new Error(`invalid value '${raw}' for ${key}: expected an integer >= ${min}`);
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
        level = value;
        break;
      case 'rate':
        rate = integer(key, value, 0);
        break;
      case 'count':
        count = integer(key, value, -1);
        break;
      case 'mode':
        if (value !== 'opentelemetry') throw new Error(`invalid value '${value}' for mode: Nereid supports mode=opentelemetry only`);
        break;
      case 'url':
        url = value;
        break;
      case 'protocol':
        protocol = otlpProtocol(value, key);
        break;
      case 'resource': {
        const inner = value.indexOf('=');
        if (inner < 1) throw new Error(`invalid value '${value}' for resource: expected key=value`);
        resource[value.slice(0, inner)] = value.slice(inner + 1);
        break;
      }
      case 'bsp_max_queue_size':
        batch.maxQueueSize = integer(key, value, 1);
        break;
      case 'bsp_schedule_delay':
        batch.scheduledDelayMillis = integer(key, value, 0);
        break;
      case 'bsp_max_export_batch_size':
        batch.maxExportBatchSize = integer(key, value, 1);
        break;
      default:
        throw new Error(`unknown key '${key}'; known: level, rate, count, mode, url, protocol, resource, bsp_max_queue_size, bsp_schedule_delay, bsp_max_export_batch_size`);
    }
  }
  return { level, rate, count, url, protocol, resource, batch };
}

/** An OTLP protocol name as OpenTelemetry spells it; only the HTTP ones are exported. */
function otlpProtocol(value: string, where: string): TraceConfig['protocol'] {
  if (value === 'http/protobuf' || value === 'http/json') return value;
  if (value === 'grpc') {
    // A general OTLP setting may serve other services; say how to override it for Nereid alone.
    const override = where === 'OTEL_EXPORTER_OTLP_PROTOCOL' ? ' (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL overrides it for traces, with an OTLP/HTTP endpoint)' : '';
    throw new Error(`invalid value 'grpc' for ${where}: Nereid exports traces over OTLP/HTTP only; use http/protobuf or http/json${override}`);
  }
  throw new Error(`invalid value '${value}' for ${where}: expected http/protobuf or http/json`);
}
