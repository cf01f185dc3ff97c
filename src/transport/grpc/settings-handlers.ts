import type {
  GRPCInferenceServiceServer,
  LogSettingsRequest_SettingValue,
  LogSettingsResponse_SettingValue,
  TraceSettingResponse_SettingValue,
} from '../../generated/grpc_service.js';
import { applyLogSettings, type LogSettingValue } from '../common/log-setting.js';
import { applyTraceSetting } from '../common/trace-setting.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

/**
 * TraceSetting and LogSettings: the settings in gRPC's shapes, applied by the
 * transport-neutral rules (common/trace-setting.ts, common/log-setting.ts) that HTTP uses too.
 */
export function settingsHandlers(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'traceSetting' | 'logSettings'> {
  return {
    traceSetting: unary((request) => {
      const values = Object.fromEntries(Object.entries(request.settings).map(([key, { value }]) => [key, value]));
      const current = applyTraceSetting(context, request.modelName, values);
      const settings: Record<string, TraceSettingResponse_SettingValue> = {};
      for (const [key, value] of Object.entries(current)) settings[key] = { value };
      return { settings };
    }),
    logSettings: unary((request) => {
      const v = applyLogSettings(context, Object.fromEntries(Object.entries(request.settings).map(([key, setting]) => [key, logValue(setting)])));
      const settings: Record<string, LogSettingsResponse_SettingValue> = {
        log_file: { parameterChoice: { $case: 'stringParam', value: v.log_file } },
        log_info: { parameterChoice: { $case: 'boolParam', value: v.log_info } },
        log_warning: { parameterChoice: { $case: 'boolParam', value: v.log_warning } },
        log_error: { parameterChoice: { $case: 'boolParam', value: v.log_error } },
        log_verbose_level: { parameterChoice: { $case: 'uint32Param', value: v.log_verbose_level } },
        log_format: { parameterChoice: { $case: 'stringParam', value: v.log_format } },
      };
      return { settings };
    }),
  };
}

function logValue(setting: LogSettingsRequest_SettingValue): LogSettingValue {
  return setting.parameterChoice?.value;
}
