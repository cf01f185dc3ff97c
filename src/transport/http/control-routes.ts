import { InferError } from '../../core/errors.js';
import { formatModelConfigJson } from '../../repository/config-json.js';
import { cudaSharedMemory, regionSize } from '../common/cuda-shared-memory.js';
import { applyLogSettings, type LogSettingValue } from '../common/log-setting.js';
import { isModelReady, modelMetadata } from '../common/model-metadata.js';
import { checkUnloadDependents, loadOverrides, noRepositoryName, type LoadParameter } from '../common/repository-control.js';
import type { ServiceContext } from '../common/service-context.js';
import { selectForStatistics } from '../common/statistics-selection.js';
import { applyTraceSetting } from '../common/trace-setting.js';
import { jsonObject, type HttpCall, type Reply } from './http-call.js';
import { errorBody } from './http-status.js';
import { jsonText } from './json-text.js';
import { statisticsJson } from './statistics-json.js';

/** A route handler: answers a call, or throws (the endpoint answers errors through http-status.ts). */
export type Handler = (call: HttpCall) => Promise<Reply> | Reply;

const json = (value: unknown): Reply => ({ status: 200, body: jsonText(value) });
const OK: Reply = { status: 200 };

/**
 * Every route but inference (infer-route.ts): health, metadata, configuration, statistics,
 * the model repository, shared memory, trace and log settings. Shapes, status codes and
 * texts are Triton's HTTP frontend's; the rules behind them are the ones gRPC uses
 * (transport/common/).
 */
export function controlHandlers(context: ServiceContext) {
  const { registry, state, sharedMemory } = context;
  return {
    serverMetadata: (() => json({ name: context.serverName, version: context.serverVersion, extensions: context.extensions })) satisfies Handler,
    // Triton answers health with an empty body: 200 when live (ready), else 400.
    live: (() => ({ status: state.isLive() ? 200 : 400 })) satisfies Handler,
    ready: (() => ({ status: state.isReady() ? 200 : 400 })) satisfies Handler,
    modelMetadata: ((call) => json(modelMetadata(context, call.params[0]!, call.params[1] ?? ''))) satisfies Handler,
    modelReady: ((call) => (isModelReady(context, call.params[0]!, call.params[1] ?? '') ? OK : { status: 400, body: errorBody('Model version not ready') })) satisfies Handler,
    modelConfig: ((call) => json(formatModelConfigJson(registry.get(call.params[0]!, call.params[1] ?? '').config))) satisfies Handler,
    modelStats: ((call) => json({ model_stats: selectForStatistics(registry, call.params[0] ?? '', call.params[1] ?? '').map(statisticsJson) })) satisfies Handler,
    repositoryIndex: (async (call) => {
      noRepositoryName(call.params[0] ?? '');
      const ready = jsonObject(await call.json(), 'the index request')['ready'];
      if (ready !== undefined && typeof ready !== 'boolean') throw new InferError('REQUEST_MALFORMED', "Unable to parse 'ready'");
      const rows = await registry.repositoryIndex(ready === true);
      return json(rows.map((r) => ({ name: r.name, version: r.version, state: r.state, reason: r.reason })));
    }) satisfies Handler,
    repositoryLoad: (async (call) => {
      noRepositoryName(call.params[0] ?? '');
      const parameters = jsonObject(jsonObject(await call.json(), 'the load request')['parameters'], "'parameters'");
      await registry.load(call.params[1]!, loadOverrides(Object.entries(parameters).map(([key, value]) => [key, loadParameter(key, value)] as const)));
      return OK;
    }) satisfies Handler,
    repositoryUnload: (async (call) => {
      noRepositoryName(call.params[0] ?? '');
      const dependents = jsonObject(jsonObject(await call.json(), 'the unload request')['parameters'], "'parameters'")['unload_dependents'];
      checkUnloadDependents(dependents === undefined ? undefined : typeof dependents === 'boolean' ? 'bool' : 'other');
      await registry.unload(call.params[1]!);
      return OK;
    }) satisfies Handler,
    systemShmStatus: ((call) =>
      json(sharedMemory.status(call.params[0] ?? '').map((r) => ({ name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize })))) satisfies Handler,
    systemShmRegister: (async (call) => {
      const name = call.params[0] ?? '';
      if (name === '') throw new InferError('PARAMETER_INVALID', "'region name' is necessary to register system shared memory region");
      const body = jsonObject(await call.json(), 'the register request');
      if (typeof body['key'] !== 'string') throw new InferError('PARAMETER_INVALID', "Shared memory register request has no 'key' field");
      if (body['byte_size'] === undefined) throw new InferError('PARAMETER_INVALID', "Shared memory register request has no 'byte_size' field");
      sharedMemory.register(name, body['key'], uint(body['offset'] ?? 0, 'offset', name), uint(body['byte_size'], 'byte_size', name));
      return OK;
    }) satisfies Handler,
    systemShmUnregister: ((call) => {
      sharedMemory.unregister(call.params[0] ?? '');
      return OK;
    }) satisfies Handler,
    cudaShmStatus: ((call) => json(cudaSharedMemory.status(call.params[0] ?? ''))) satisfies Handler,
    cudaShmRegister: ((call) => {
      const name = call.params[0] ?? '';
      if (name === '') throw new InferError('PARAMETER_INVALID', "'region name' is necessary to register cuda shared memory region");
      return cudaSharedMemory.register(name);
    }) satisfies Handler,
    cudaShmUnregister: (() => OK) satisfies Handler,
    traceSetting: (async (call) => {
      const model = call.params[0] ?? '';
      const settings = call.request.method === 'POST' ? jsonObject(await call.json(), 'the trace setting request') : {};
      const values = Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, traceValues(key, value)]));
      const current = applyTraceSetting(context, model, values);
      // Triton's JSON: trace_level is a list, every other setting one string.
      return json(Object.fromEntries(Object.entries(current).map(([key, value]) => [key, key === 'trace_level' ? value : value[0] ?? ''])));
    }) satisfies Handler,
    logging: (async (call) => {
      const settings = call.request.method === 'POST' ? jsonObject(await call.json(), 'the logging request') : {};
      // Triton skips null values.
      const values: Record<string, LogSettingValue> = {};
      for (const [key, value] of Object.entries(settings)) {
        if (value === null) continue;
        values[key] = typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string' ? value : undefined;
      }
      return json(applyLogSettings(context, values));
    }) satisfies Handler,
  };
}

/** A trace setting's JSON value as a list: a string alone, a list of strings, or null (clears a per-model override). */
function traceValues(key: string, value: unknown): string[] {
  if (value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new InferError('SETTING_INVALID', `Unable to parse '${key}': expected a string, a list of strings or null`);
}

/** HTTP sends `config` as a string and `file:` contents in base64, as tritonclient does. */
function loadParameter(key: string, value: unknown): LoadParameter {
  if (typeof value !== 'string') return { kind: 'other' };
  if (key.startsWith('file:')) return { kind: 'bytes', value: Buffer.from(value, 'base64') };
  return { kind: 'string', value };
}

function uint(value: unknown, field: string, region: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InferError('PARAMETER_INVALID', `Unable to parse '${field}'`);
  return regionSize(BigInt(value), region);
}
