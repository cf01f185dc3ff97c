import { clip, quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { LogSettingValues, TraceSettingChange, TraceSettingValues } from '../../core/telemetry.js';
import type {
  GRPCInferenceServiceServer,
  LogSettingsRequest_SettingValue,
  LogSettingsResponse_SettingValue,
  TraceSettingRequest_SettingValue,
  TraceSettingResponse_SettingValue,
} from '../../generated/grpc_service.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

const invalid = (message: string) => new InferError('SETTING_INVALID', message);

/**
 * TraceSetting and LogSettings with Triton's keys, value types, error texts and reset rule
 * (an empty value list clears a per-model trace override). A request is checked whole
 * before anything changes.
 */
export function settingsHandlers(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'traceSetting' | 'logSettings'> {
  return {
    traceSetting: unary((request) => {
      const model = request.modelName;
      if (model !== '' && !context.registry.isReady(model, '')) throw invalid(`Request for unknown model : ${clip(model)}`);
      const change = parseTraceChange(request.settings);
      if (Object.keys(change).length > 0) {
        if (model === '' && Object.values(change).some((v) => v === null)) {
          throw invalid('an empty value clears a per-model override; global settings cannot be cleared');
        }
        context.traceControl.update(model, change);
      }
      const current = context.traceControl.settings(model);
      const settings: Record<string, TraceSettingResponse_SettingValue> = {
        trace_level: { value: [current.level] },
        trace_rate: { value: [String(current.rate)] },
        trace_count: { value: [String(current.count)] },
        trace_mode: { value: [current.mode] },
      };
      for (const [key, value] of Object.entries(current.exporter)) settings[key] = { value: [value] };
      return { settings };
    }),
    logSettings: unary((request) => {
      context.logControl.update(parseLogChange(request.settings));
      const v = context.logControl.settings();
      const settings: Record<string, LogSettingsResponse_SettingValue> = {
        log_file: { parameterChoice: { $case: 'stringParam', value: '' } },
        log_info: { parameterChoice: { $case: 'boolParam', value: v.logInfo } },
        log_warning: { parameterChoice: { $case: 'boolParam', value: v.logWarning } },
        log_error: { parameterChoice: { $case: 'boolParam', value: v.logError } },
        log_verbose_level: { parameterChoice: { $case: 'uint32Param', value: v.logVerboseLevel } },
        log_format: { parameterChoice: { $case: 'stringParam', value: v.logFormat } },
      };
      return { settings };
    }),
  };
}

function parseTraceChange(settings: { [key: string]: TraceSettingRequest_SettingValue }): TraceSettingChange {
  const change: { -readonly [K in keyof TraceSettingValues]?: TraceSettingValues[K] | null } = {};
  for (const [key, { value }] of Object.entries(settings)) {
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

function parseLogChange(settings: { [key: string]: LogSettingsRequest_SettingValue }): Partial<LogSettingValues> {
  const change: { -readonly [K in keyof LogSettingValues]?: LogSettingValues[K] } = {};
  for (const [key, setting] of Object.entries(settings)) {
    const choice = setting.parameterChoice;
    const bool = () => {
      if (choice?.$case !== 'boolParam') throw invalid(`expect boolean for ${quote(key)}`);
      return choice.value;
    };
    switch (key) {
      case 'log_file':
        throw new InferError('UNSUPPORTED', 'log file location can not be updated through network protocol');
      case 'log_info':
        change.logInfo = bool();
        break;
      case 'log_warning':
        change.logWarning = bool();
        break;
      case 'log_error':
        change.logError = bool();
        break;
      case 'log_verbose_level':
        if (choice?.$case !== 'uint32Param') throw invalid(`expect int32 for ${quote(key)}`);
        change.logVerboseLevel = choice.value;
        break;
      case 'log_format':
        if (choice?.$case !== 'stringParam') throw invalid(`expect string for ${quote(key)}`);
        if (choice.value !== 'default' && choice.value !== 'ISO8601') throw invalid(`invalid argument for log_format, got: ${clip(choice.value)}`);
        change.logFormat = choice.value;
        break;
      default:
        throw invalid(`unknown log setting ${quote(key)}; known: log_file, log_info, log_warning, log_error, log_verbose_level, log_format`);
    }
  }
  return change;
}
