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
  context: Pick<ServiceContext, 'registry' | 'traceControl' | 'profileControl'>,
  model: string,
  settings: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  if (model !== '' && !context.registry.isReady(model, '')) throw invalid(`Request for unknown model : ${clip(model)}`);
  const { profile, trace } = splitProfileSettings(settings);
  const change = parseTraceChange(trace);
  const profileRequest = parseProfileRequest(context, model, profile);
  if (profileRequest !== undefined) context.profileControl.start(model, profileRequest.executions, profileRequest.instance);
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
  const status = model === '' ? undefined : context.profileControl.status(model);
  if (status !== undefined) {
    view[PROFILE_EXECUTIONS] = [String(status.remaining)];
    if (status.instance !== undefined) view[PROFILE_INSTANCE] = [status.instance];
    view['nereid_profile_requested'] = [String(status.executions)];
    view['nereid_profile_state'] = [status.state];
    view['nereid_profile_file'] = [status.file];
    view['nereid_profile_summary'] = [status.summaryFile];
    if (status.error !== undefined) view['nereid_profile_error'] = [status.error];
  }
  return view;
}

/** Nereid's keys: profile the model's next N executions with ONNX Runtime's profiler (0 ends a profile early). */
const PROFILE_EXECUTIONS = 'nereid_profile_executions';
/** Optional, with PROFILE_EXECUTIONS: only this instance's executions. */
const PROFILE_INSTANCE = 'nereid_profile_instance';
/** The most executions one profile may ask for: each adds its node events to the file (about 250 KB per ocr_rec execution). */
const MAX_PROFILE_EXECUTIONS = 1000;

function splitProfileSettings(settings: Readonly<Record<string, readonly string[]>>) {
  const trace: Record<string, readonly string[]> = {};
  const profile: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(settings)) (key.startsWith('nereid_profile_') ? profile : trace)[key] = value;
  return { profile, trace };
}

/** Checks the nereid_profile_* keys against the model; undefined when none is given. */
function parseProfileRequest(
  context: Pick<ServiceContext, 'registry'>,
  model: string,
  settings: Readonly<Record<string, readonly string[]>>,
): { executions: number; instance: string | undefined } | undefined {
  for (const key of Object.keys(settings)) {
    if (key !== PROFILE_EXECUTIONS && key !== PROFILE_INSTANCE) throw invalid(`unknown trace setting ${quote(key)}; Nereid's profile keys are ${PROFILE_EXECUTIONS} and ${PROFILE_INSTANCE}`);
  }
  const executions = settings[PROFILE_EXECUTIONS];
  const instance = settings[PROFILE_INSTANCE];
  if (executions === undefined) {
    if (instance !== undefined) throw invalid(`'${PROFILE_INSTANCE}' needs '${PROFILE_EXECUTIONS}' in the same request`);
    return undefined;
  }
  if (model === '') throw invalid(`'${PROFILE_EXECUTIONS}' profiles one model: send it with the model's name`);
  if (executions.length !== 1) throw invalid(`expect only 1 value for ${quote(PROFILE_EXECUTIONS)}`);
  const raw = executions[0]!;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_PROFILE_EXECUTIONS) {
    throw invalid(`Unable to parse '${PROFILE_EXECUTIONS}'. Expecting a number of executions from 0 (end the profile now) to ${MAX_PROFILE_EXECUTIONS}, got: ${clip(raw)}`);
  }
  const ready = context.registry.get(model, '');
  if (ready.config.backend !== 'onnxruntime') {
    throw invalid(`model ${quote(model)} runs on the '${ready.config.backend}' backend; only ONNX Runtime models can be profiled`);
  }
  if (ready.config.modelTransactionPolicy?.decoupled === true) throw invalid(`model ${quote(model)} is decoupled; only models answering once per request can be profiled`);
  let name: string | undefined;
  if (instance !== undefined) {
    if (instance.length !== 1) throw invalid(`expect only 1 value for ${quote(PROFILE_INSTANCE)}`);
    name = instance[0]!;
    const names = ready.servable.instances().map((i) => i.name);
    if (!names.includes(name)) throw invalid(`model ${quote(model)} has no instance ${quote(name)}; its instances are ${names.map((n) => quote(n)).join(', ')}`);
  }
  return { executions: Number(raw), instance: name };
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
