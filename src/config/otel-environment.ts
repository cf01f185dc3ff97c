import { accessSync, constants } from 'node:fs';
import type { TraceConfig, TraceSampler } from './server-config.js';

/** Node's timers run a longer delay after 1 ms, so no duration may exceed this. */
export const MAX_MILLIS = 2 ** 31 - 1;

/** Settings --trace-config can also give; a variable for one of these is not read when the flag gives it. */
export type FlagSetting = 'url' | 'protocol' | keyof TraceConfig['batch'];

/** What the standard variables say; undefined where they say nothing. */
export interface OtelEnvironment {
  readonly disabledBy: string | undefined;
  readonly sampler: TraceSampler | undefined;
  readonly propagate: boolean;
  /** The traces endpoint for OTLP/HTTP: the traces variable as is, else the general one + /v1/traces. */
  readonly url: string | undefined;
  /** The traces endpoint for OTLP/gRPC: the traces variable, else the general one, both as is. */
  readonly grpcUrl: string | undefined;
  readonly protocol: TraceConfig['exporter']['protocol'] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number | undefined;
  readonly compression: TraceConfig['exporter']['compression'] | undefined;
  readonly certificate: string | undefined;
  readonly clientCertificate: string | undefined;
  readonly clientKey: string | undefined;
  /** service.name (OTEL_SERVICE_NAME, else 'nereid') and OTEL_RESOURCE_ATTRIBUTES. */
  readonly resource: Readonly<Record<string, string>>;
  readonly batch: Partial<TraceConfig['batch']>;
  readonly limits: TraceConfig['limits'];
}

const SAMPLERS: Readonly<Record<string, { parentBased: boolean; ratio?: number }>> = {
  always_on: { parentBased: false, ratio: 1 },
  always_off: { parentBased: false, ratio: 0 },
  traceidratio: { parentBased: false },
  parentbased_always_on: { parentBased: true, ratio: 1 },
  parentbased_always_off: { parentBased: true, ratio: 0 },
  parentbased_traceidratio: { parentBased: true },
};

/** An HTTP header name (RFC 9110 token) and a value Node will send (no control characters). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Reads the standard OpenTelemetry SDK and OTLP exporter variables from `env` (the
 * environment given, never process.env), so that the SDK is handed explicit values and
 * never reads a variable itself. An empty value counts as unset, and enumerated values are
 * read case-insensitively, as the OpenTelemetry specification says. A value Nereid cannot
 * honour, malformed or unsupported, throws an Error naming the variable: start-up is refused
 * rather than a setting silently ignored. Variables for settings in `overridden` are not
 * read (--trace-config gave them).
 */
export function readOtelEnvironment(env: NodeJS.ProcessEnv, overridden: ReadonlySet<FlagSetting> = new Set()): OtelEnvironment {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  /** The traces-specific variable when set, else the general OTLP one. */
  const otlp = (suffix: string): [string, string] | undefined => {
    for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
      const value = read(name);
      if (value !== undefined) return [name, value];
    }
    return undefined;
  };
  const integer = (name: string, min: number, max: number, unit = ''): number | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new Error(`invalid value '${raw}' for ${name}: expected an integer from ${min} to ${max}${unit}`);
    }
    return value;
  };
  const ms = (name: string, min: number) => integer(name, min, MAX_MILLIS, ' (milliseconds)');
  const file = (suffix: string): string | undefined => {
    const found = otlp(suffix);
    if (found === undefined) return undefined;
    try {
      accessSync(found[1], constants.R_OK);
    } catch (err) {
      throw new Error(`cannot read '${found[1]}', named by ${found[0]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return found[1];
  };

  const url = overridden.has('url') ? undefined : endpoint(read);
  const grpcUrl = overridden.has('url') ? undefined : (read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read('OTEL_EXPORTER_OTLP_ENDPOINT'));
  const protocolSetting = overridden.has('protocol') ? undefined : otlp('PROTOCOL');
  const compressionSetting = otlp('COMPRESSION');
  const timeout = otlp('TIMEOUT');
  const batch: { -readonly [K in keyof TraceConfig['batch']]?: number } = {};
  const bsp = (key: keyof TraceConfig['batch'], value: () => number | undefined) => {
    if (overridden.has(key)) return;
    const given = value();
    if (given !== undefined) batch[key] = given;
  };
  bsp('maxQueueSize', () => integer('OTEL_BSP_MAX_QUEUE_SIZE', 1, MAX_MILLIS));
  bsp('scheduledDelayMillis', () => ms('OTEL_BSP_SCHEDULE_DELAY', 0));
  bsp('exportTimeoutMillis', () => ms('OTEL_BSP_EXPORT_TIMEOUT', 1));
  bsp('maxExportBatchSize', () => integer('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, MAX_MILLIS));
  const limit = (name: string) => integer(name, 0, MAX_MILLIS);
  const resource: Record<string, string> = { 'service.name': 'nereid', ...keyValues('OTEL_RESOURCE_ATTRIBUTES', read('OTEL_RESOURCE_ATTRIBUTES'), 'attributes') };
  // The specification: OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES.
  const serviceName = read('OTEL_SERVICE_NAME');
  if (serviceName !== undefined) resource['service.name'] = serviceName;

  return {
    disabledBy: disabledBy(read),
    sampler: sampler(read),
    propagate: propagate(read('OTEL_PROPAGATORS')),
    url,
    grpcUrl,
    protocol: protocolSetting === undefined ? undefined : otlpProtocol(protocolSetting[1], protocolSetting[0]),
    headers: {
      ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', read('OTEL_EXPORTER_OTLP_HEADERS'), 'headers'),
      ...keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', read('OTEL_EXPORTER_OTLP_TRACES_HEADERS'), 'headers'),
    },
    timeoutMillis: timeout === undefined ? undefined : ms(timeout[0], 1),
    compression: compressionSetting === undefined ? undefined : oneOf(compressionSetting[0], compressionSetting[1], ['gzip', 'none'] as const),
    certificate: file('CERTIFICATE'),
    clientCertificate: file('CLIENT_CERTIFICATE'),
    clientKey: file('CLIENT_KEY'),
    resource,
    batch,
    limits: {
      attributeCountLimit: limit('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? limit('OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128,
      attributeValueLengthLimit: limit('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? limit('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity,
      linkCountLimit: limit('OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
      eventCountLimit: limit('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
      attributePerEventCountLimit: limit('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT') ?? 128,
      attributePerLinkCountLimit: limit('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    },
  };
}

/** An OTLP protocol name as OpenTelemetry spells it. */
export function otlpProtocol(value: string, where: string): TraceConfig['exporter']['protocol'] {
  const protocol = value.toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json' || protocol === 'grpc') return protocol;
  throw new Error(`invalid value '${value}' for ${where}: expected grpc, http/protobuf or http/json`);
}

/** An OTLP endpoint: an http or https URL (for gRPC, https means TLS and the path is not used). */
export function otlpUrl(value: string, where: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`invalid value '${value}' for ${where}: expected an http:// or https:// URL`);
  }
  return value;
}

/** The traces endpoint: the traces variable as is, else the general one with /v1/traces appended. */
function endpoint(read: (name: string) => string | undefined): string | undefined {
  const traces = read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces !== undefined) return otlpUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = read('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return undefined;
  otlpUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function disabledBy(read: (name: string) => string | undefined): string | undefined {
  const disabled = read('OTEL_SDK_DISABLED');
  if (disabled !== undefined && oneOf('OTEL_SDK_DISABLED', disabled, ['true', 'false'] as const) === 'true') return 'OTEL_SDK_DISABLED=true';
  const exporters = read('OTEL_TRACES_EXPORTER');
  if (exporters === undefined) return undefined;
  const names = [...new Set(exporters.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean))];
  for (const name of names) {
    if (name === 'otlp' || name === 'none') continue;
    const why = name === 'console' ? 'it would write spans into the log lines on stdout' : 'Nereid exports spans over OTLP only';
    throw new Error(`invalid value '${exporters}' for OTEL_TRACES_EXPORTER: '${name}' is not supported (${why}); expected otlp or none`);
  }
  if (names.includes('none')) {
    if (names.length > 1) throw new Error(`invalid value '${exporters}' for OTEL_TRACES_EXPORTER: none cannot be combined with otlp`);
    return 'OTEL_TRACES_EXPORTER=none';
  }
  return undefined;
}

function sampler(read: (name: string) => string | undefined): TraceSampler | undefined {
  const raw = read('OTEL_TRACES_SAMPLER');
  if (raw === undefined) return undefined;
  const name = raw.toLowerCase();
  const known = SAMPLERS[name];
  if (known === undefined) {
    const supported = Object.keys(SAMPLERS).join(', ');
    const remote = ['jaeger_remote', 'parentbased_jaeger_remote', 'xray'].includes(name);
    throw new Error(`invalid value '${raw}' for OTEL_TRACES_SAMPLER: ${remote ? `'${name}' is not supported by Nereid; ` : ''}expected one of ${supported}`);
  }
  if (known.ratio !== undefined) return { name, parentBased: known.parentBased, ratio: known.ratio };
  // The specification's default argument for the ratio samplers is 1.0.
  const arg = read('OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (arg !== undefined && (!/^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(arg) || ratio > 1)) {
    throw new Error(`invalid value '${arg}' for OTEL_TRACES_SAMPLER_ARG: expected a sampling probability from 0 to 1 for ${name}`);
  }
  return { name, parentBased: known.parentBased, ratio };
}

/** OTEL_PROPAGATORS: whether the W3C trace context of a caller is read. */
function propagate(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  const names = raw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (name !== 'tracecontext' && name !== 'baggage' && name !== 'none') {
      throw new Error(`invalid value '${raw}' for OTEL_PROPAGATORS: '${name}' is not supported; Nereid reads the W3C trace context (tracecontext), or none`);
    }
  }
  return names.includes('tracecontext');
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  const value = raw.toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`invalid value '${raw}' for ${name}: expected ${allowed.join(' or ')}`);
  return value as T;
}

/**
 * `key=value` pairs separated by commas, values percent-encoded (W3C Baggage, as the
 * specification has it for OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS). Header
 * values are never repeated in a message: they often hold credentials.
 */
function keyValues(name: string, raw: string | undefined, kind: 'attributes' | 'headers'): Record<string, string> {
  const pairs: Record<string, string> = {};
  if (raw === undefined) return pairs;
  const show = kind === 'attributes';
  const bad = (why: string) => new Error(`invalid value ${show ? `'${raw}' ` : ''}for ${name}: ${why}`);
  for (const item of raw.split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = entry.slice(0, Math.max(eq, 0)).trim();
    if (eq < 0 || key === '') throw bad(`expected key=value pairs separated by commas${show ? `, got '${entry}'` : ''}`);
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw bad(`the value of '${key}' is not valid percent-encoding`);
    }
    if (kind === 'headers' && (!HEADER_NAME.test(key) || !HEADER_VALUE.test(value))) {
      throw bad(`'${key}' is not a valid HTTP header name, or its value holds control characters`);
    }
    pairs[key] = value;
  }
  return pairs;
}
