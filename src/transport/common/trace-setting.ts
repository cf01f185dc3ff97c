import { clip, quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { TraceSettingChange, TraceSettingValues } from '../../core/telemetry.js';
import type { ServiceContext } from './service-context.js';

const invalid = (message: string) => new InferError('SETTING_INVALID', message);

/**
 * Triton's trace setting update for either transport (gRPC TraceSetting, HTTP
 * /v2[/models/{m}]/trace/setting): `settings` maps each key to its values, where an empty
 * list clears a per-model override (gRPC's empty value list, HTTP's null). Keys, value
 * formats, error texts and the reset rule are Triton's; the request is checked whole
 * before anything changes. Returns the settings now in force, each as a list of strings.
 */
export function applyTraceSetting(
  context: Pick<ServiceContext, 'registry' | 'traceControl'>,
  model: string,
  settings: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  if (model !== '' && !context.registry.isReady(model, '')) throw invalid(`Request for unknown model : ${clip(model)}`);
  const change = parseTraceChange(settings);
  if (Object.keys(change).length > 0) {
    if (model === '' && Object.values(change).some((v) => v === null)) {
      throw invalid('an empty value clears a per-model override; global settings cannot be cleared');
    }
    context.traceControl.update(model, change);
  }
  const current = context.traceControl.settings(model);
  const view: Record<string, string[]> = {
    trace_level: [current.level],
    trace_rate: [String(current.rate)],
    trace_count: [String(current.count)],
    trace_mode: [current.mode],
  };
  for (const [key, value] of Object.entries(current.exporter)) view[key] = [value];
  return view;
}

function parseTraceChange(settings: Readonly<Record<string, readonly string[]>>): TraceSettingChange {
  const change: { -readonly [K in keyof TraceSettingValues]?: TraceSettingValues[K] | null } = {};
  for (const [key, value] of Object.entries(settings)) {
    const single = (): string => {
      if (value.length !== 1) throw invalid(`expect only 1 value for ${quote(key)}`);
      return value[0]!;
    };
    switch (key) {
      case 'trace_file':
        throw new InferError('UNSUPPORTED', 'trace file location can not be updated through network protocol');
      case 'trace_level':
        change.level = value.length === 0 ? null : traceLevel(value);
        break;
      case 'trace_rate': {
        if (value.length === 0) {
          change.rate = null;
          break;
        }
        const raw = single();
        if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff) throw invalid(`Unable to parse 'trace_rate', got: ${clip(raw)}`);
        change.rate = Number(raw);
        break;
      }
      case 'trace_count': {
        if (value.length === 0) {
          change.count = null;
          break;
        }
        const raw = single();
        if (!/^-?\d+$/.test(raw) || Number(raw) < -1 || Number(raw) > 0x7fffffff) {
          throw invalid(`Unable to parse 'trace_count'. Expecting value >= -1, got: ${clip(raw)}`);
        }
        change.count = Number(raw);
        break;
      }
      case 'trace_mode':
        if (value.length === 0) break;
        if (single() !== 'opentelemetry') throw invalid(`trace_mode ${quote(value[0]!)} is not supported; Nereid traces with OpenTelemetry`);
        change.mode = 'opentelemetry';
        break;
      case 'log_frequency':
        throw invalid("'log_frequency' applies to trace_mode 'triton', which Nereid does not support");
      default:
        throw invalid(`unknown trace setting ${quote(key)}; known: trace_level, trace_rate, trace_count, trace_mode`);
    }
  }
  return change;
}

function traceLevel(values: readonly string[]): TraceSettingValues['level'] {
  if (values.includes('OFF')) {
    if (values.length > 1) throw invalid("Expect only one trace level 'OFF' is specified");
    return 'OFF';
  }
  for (const level of values) {
    if (level === 'TENSORS') throw invalid("trace level 'TENSORS' is not supported in opentelemetry mode");
    if (level !== 'TIMESTAMPS') throw invalid(`unknown trace level ${quote(level)}; use OFF or TIMESTAMPS`);
  }
  return 'TIMESTAMPS';
}
