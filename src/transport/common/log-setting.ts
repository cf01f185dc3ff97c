import { clip, quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { LogSettingValues } from '../../core/telemetry.js';
import type { ServiceContext } from './service-context.js';

const invalid = (message: string) => new InferError('SETTING_INVALID', message);

/** A log setting's value as either transport decoded it: gRPC's bool/uint32/string params, HTTP's JSON values. */
export type LogSettingValue = boolean | number | string | undefined;

/** The log settings as Triton reports them (log_file is always '': the file cannot change at run time). */
export interface LogSettingsView {
  readonly log_file: string;
  readonly log_info: boolean;
  readonly log_warning: boolean;
  readonly log_error: boolean;
  readonly log_verbose_level: number;
  readonly log_format: string;
}

/**
 * Triton's log settings update for either transport (gRPC LogSettings, HTTP /v2/logging):
 * keys, value types and error texts are Triton's; the request is checked whole before
 * anything changes. Returns the settings now in force.
 */
export function applyLogSettings(context: Pick<ServiceContext, 'logControl'>, settings: Readonly<Record<string, LogSettingValue>>): LogSettingsView {
  context.logControl.update(parseLogChange(settings));
  const v = context.logControl.settings();
  return {
    log_file: '',
    log_info: v.logInfo,
    log_warning: v.logWarning,
    log_error: v.logError,
    log_verbose_level: v.logVerboseLevel,
    log_format: v.logFormat,
  };
}

function parseLogChange(settings: Readonly<Record<string, LogSettingValue>>): Partial<LogSettingValues> {
  const change: { -readonly [K in keyof LogSettingValues]?: LogSettingValues[K] } = {};
  for (const [key, value] of Object.entries(settings)) {
    const bool = () => {
      if (typeof value !== 'boolean') throw invalid(`expect boolean for ${quote(key)}`);
      return value;
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
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(`expect int32 for ${quote(key)}`);
        change.logVerboseLevel = value;
        break;
      case 'log_format':
        if (typeof value !== 'string') throw invalid(`expect string for ${quote(key)}`);
        if (value !== 'default' && value !== 'ISO8601') throw invalid(`invalid argument for log_format, got: ${clip(value)}`);
        change.logFormat = value;
        break;
      default:
        throw invalid(`unknown log setting ${quote(key)}; known: log_file, log_info, log_warning, log_error, log_verbose_level, log_format`);
    }
  }
  return change;
}
