import { fromBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { ModelConfig } from '../generated/model_config.js';
import { modelConfigSchema } from './config-text.js';
import { ModelConfigError } from './config-error.js';

/**
 * What Nereid does with a ModelConfig field:
 * - `acted`: Nereid reads it and behaves as Triton does (or refuses a value it cannot honour
 *   in its own check, as with KIND_MODEL or TYPE_BF16).
 * - `warned`: Nereid does not act on it, and results are the same without it (it tunes
 *   machinery Nereid lacks); a model setting it loads with a warning that names the field.
 * - `refused`: Nereid does not act on it and results would differ without it; a model
 *   setting it is UNAVAILABLE with the reason.
 * A `warned` or `refused` entry covers the fields below it; an `acted` entry covers only
 * itself, so that every field Nereid acts on was looked at one by one.
 */
export type FieldTreatment = { readonly treatment: 'acted' } | { readonly treatment: 'warned' | 'refused'; readonly why: string };

const ACTED: FieldTreatment = { treatment: 'acted' };
const warned = (why: string): FieldTreatment => ({ treatment: 'warned', why });
const refused = (why: string): FieldTreatment => ({ treatment: 'refused', why });

const acted = (...paths: string[]): [string, FieldTreatment][] => paths.map((p) => [p, ACTED]);

/**
 * Every field of inference.ModelConfig, by its path of proto field names. The unit test
 * walks the descriptor and fails when a field is missing here, so a field added to
 * model_config.proto cannot be ignored silently. Documented in docs/model-config-fields.md.
 */
export const CONFIG_FIELDS: ReadonlyMap<string, FieldTreatment> = new Map<string, FieldTreatment>([
  ...acted('name', 'platform', 'backend'),
  ['runtime', warned('Nereid runs ONNX models with onnxruntime-node whatever runtime names')],
  ...acted('version_policy', 'version_policy.latest', 'version_policy.latest.num_versions', 'version_policy.all'),
  ...acted('version_policy.specific', 'version_policy.specific.versions', 'max_batch_size'),
  ...acted('input', 'input.name', 'input.data_type', 'input.dims', 'input.reshape', 'input.reshape.shape', 'input.optional'),
  ['input.format', warned('the format only checks image-classification inputs in Triton; Nereid passes tensors as they are')],
  ['input.is_shape_tensor', warned('shape tensors are a TensorRT feature; ONNX Runtime takes every input as a tensor')],
  ['input.allow_ragged_batch', warned('Nereid batches only requests of the same shape; requests of other shapes run in batches of their own')],
  ['input.is_non_linear_format_io', warned('non-linear I/O formats are a TensorRT feature')],
  ...acted('output', 'output.name', 'output.data_type', 'output.dims', 'output.reshape', 'output.reshape.shape'),
  ['output.label_filename', warned('Nereid does not implement the classification extension, which reads the labels')],
  ['output.is_shape_tensor', warned('shape tensors are a TensorRT feature')],
  ['output.is_non_linear_format_io', warned('non-linear I/O formats are a TensorRT feature')],
  ['batch_input', refused('Nereid does not generate batch inputs (ragged batching), so the model would run without the tensors it expects')],
  ['batch_output', refused('Nereid does not scatter batch outputs (ragged batching), so each request would get the wrong share of the output')],
  ...acted('optimization'),
  ['optimization.graph', warned('Nereid always creates sessions with ONNX Runtime graph optimization level "all"')],
  ['optimization.priority', warned('Nereid has no per-model priority between models')],
  ['optimization.cuda', warned('CUDA graphs and copy streams are not reachable through onnxruntime-node')],
  ...acted('optimization.execution_accelerators', 'optimization.execution_accelerators.gpu_execution_accelerator'),
  ...acted('optimization.execution_accelerators.gpu_execution_accelerator.name'),
  ['optimization.execution_accelerators.gpu_execution_accelerator.parameters', warned('execution accelerator parameters are not passed to ONNX Runtime')],
  ['optimization.execution_accelerators.cpu_execution_accelerator', warned('CPU instances always run ONNX Runtime\'s default CPU execution provider (no OpenVINO)')],
  ['optimization.input_pinned_memory', warned('Nereid has no pinned host memory; inputs are staged in ordinary buffers')],
  ['optimization.output_pinned_memory', warned('Nereid has no pinned host memory; outputs come back in ordinary buffers')],
  ['optimization.gather_kernel_buffer_threshold', warned('Nereid gathers inputs on the host, without a GPU gather kernel')],
  ['optimization.eager_batching', warned('Nereid forms a batch when an instance is free, without eager batching')],
  ...acted('dynamic_batching', 'dynamic_batching.preferred_batch_size', 'dynamic_batching.max_queue_delay_microseconds'),
  ...acted('dynamic_batching.preserve_ordering', 'dynamic_batching.priority_levels', 'dynamic_batching.default_priority_level'),
  ...queuePolicyFields('dynamic_batching.default_queue_policy'),
  ...queuePolicyFields('dynamic_batching.priority_queue_policy'),
  ...acted('sequence_batching', 'sequence_batching.direct', 'sequence_batching.direct.max_queue_delay_microseconds'),
  ...acted('sequence_batching.direct.minimum_slot_utilization', 'sequence_batching.oldest', 'sequence_batching.oldest.max_candidate_sequences'),
  ...acted('sequence_batching.oldest.preferred_batch_size', 'sequence_batching.oldest.max_queue_delay_microseconds'),
  ['sequence_batching.oldest.preserve_ordering', warned('the oldest strategy answers each sequence in order but does not hold responses back across sequences')],
  ...acted('sequence_batching.max_sequence_idle_microseconds', 'sequence_batching.control_input', 'sequence_batching.control_input.name'),
  ...acted('sequence_batching.control_input.control', 'sequence_batching.control_input.control.kind'),
  ...acted('sequence_batching.control_input.control.int32_false_true', 'sequence_batching.control_input.control.fp32_false_true'),
  ...acted('sequence_batching.control_input.control.bool_false_true', 'sequence_batching.control_input.control.data_type'),
  ...acted('sequence_batching.state', 'sequence_batching.state.input_name', 'sequence_batching.state.output_name'),
  ...acted('sequence_batching.state.data_type', 'sequence_batching.state.dims', 'sequence_batching.state.initial_state'),
  ...acted('sequence_batching.state.initial_state.data_type', 'sequence_batching.state.initial_state.dims'),
  ...acted('sequence_batching.state.initial_state.zero_data', 'sequence_batching.state.initial_state.data_file'),
  ...acted('sequence_batching.state.initial_state.name'),
  ['sequence_batching.state.use_same_buffer_for_input_output', warned('a memory-saving option of GPU backends; Nereid copies the state out of each output')],
  ['sequence_batching.state.use_growable_memory', warned('a memory-saving option of GPU backends; Nereid sizes each state from its output')],
  ['sequence_batching.iterative_sequence', refused('Nereid does not schedule iterative sequences, whose requests the model would re-run')],
  ['ensemble_scheduling', refused('Nereid does not run ensembles, so the model\'s steps would never run')],
  ...acted('instance_group', 'instance_group.name', 'instance_group.kind', 'instance_group.count', 'instance_group.gpus'),
  ['instance_group.rate_limiter', warned('Nereid has no rate limiter; an idle instance takes the next batch')],
  ['instance_group.secondary_devices', warned('secondary devices serve backends Nereid does not have')],
  ['instance_group.profile', warned('optimization profiles are a TensorRT feature')],
  ['instance_group.passive', warned('Nereid schedules onto every instance it starts; none is kept passive')],
  ['instance_group.host_policy', warned('Nereid does not apply host policies (NUMA placement) to instances')],
  ...acted('default_model_filename'),
  ['cc_model_filenames', warned('per-compute-capability model files are not chosen; Nereid loads default_model_filename')],
  ['metric_tags', warned('metric tags are not added to Nereid\'s metrics')],
  ...acted('parameters', 'parameters.string_value'),
  ...acted('model_warmup', 'model_warmup.name', 'model_warmup.batch_size', 'model_warmup.inputs', 'model_warmup.inputs.data_type'),
  ...acted('model_warmup.inputs.dims', 'model_warmup.inputs.zero_data', 'model_warmup.inputs.random_data'),
  ...acted('model_warmup.inputs.input_data_file', 'model_warmup.count'),
  ['model_operations', refused('onnxruntime-node cannot load custom operator libraries, so the model\'s custom operators would be missing')],
  ...acted('model_transaction_policy', 'model_transaction_policy.decoupled'),
  ['model_repository_agents', warned('Nereid runs no repository agents; model files are loaded as they are in the repository')],
  ...acted('response_cache', 'response_cache.enable'),
  ['model_metrics', warned('per-model metric overrides (histogram buckets) are not applied')],
]);

function queuePolicyFields(prefix: string): [string, FieldTreatment][] {
  return acted(prefix, ...['timeout_action', 'default_timeout_microseconds', 'allow_timeout_override', 'max_queue_size'].map((f) => `${prefix}.${f}`));
}

/** The treatment of a field path: its own entry, else a warned or refused ancestor's; undefined when unclassified. */
export function fieldTreatment(path: string): FieldTreatment | undefined {
  const own = CONFIG_FIELDS.get(path);
  if (own !== undefined) return own;
  const parts = path.split('.');
  for (let n = parts.length - 1; n > 0; n--) {
    const ancestor = CONFIG_FIELDS.get(parts.slice(0, n).join('.'));
    if (ancestor !== undefined) return ancestor.treatment === 'acted' ? undefined : ancestor;
  }
  return undefined;
}

/** Every field path of a message type, walking nested messages (each type once per branch, so recursion ends). */
export function fieldPaths(desc: DescMessage = modelConfigSchema(), prefix = '', seen: ReadonlySet<string> = new Set([desc.typeName])): string[] {
  const paths: string[] = [];
  for (const field of desc.fields) {
    const path = prefix + field.name;
    paths.push(path);
    const nested = messageOf(field);
    if (nested !== undefined && !seen.has(nested.typeName)) paths.push(...fieldPaths(nested, `${path}.`, new Set([...seen, nested.typeName])));
  }
  return paths;
}

function messageOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === 'message') return field.message;
  if (field.fieldKind === 'list' && field.listKind === 'message') return field.message;
  if (field.fieldKind === 'map' && field.mapKind === 'message') return field.message;
  return undefined;
}

/**
 * The paths of the fields a config sets (non-default values, in any element of a list or
 * map), read through the descriptor so that every field is seen the same way.
 */
export function setFieldPaths(config: ModelConfig): Set<string> {
  const desc = modelConfigSchema();
  const message = fromBinary(desc, ModelConfig.encode(config).finish()) as unknown as Record<string, unknown>;
  const found = new Set<string>();
  collect(desc, message, '', found);
  return found;
}

function collect(desc: DescMessage, message: Record<string, unknown>, prefix: string, found: Set<string>): void {
  for (const field of desc.fields) {
    const value = readField(message, field);
    if (!isSet(value)) continue;
    const path = prefix + field.name;
    found.add(path);
    const nested = messageOf(field);
    if (nested === undefined) continue;
    const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : field.fieldKind === 'map' ? Object.values(value as object) : [value];
    for (const item of items) collect(nested, item as Record<string, unknown>, `${path}.`, found);
  }
}

/** A field's value in a @bufbuild/protobuf message, looking inside its oneof when it has one. */
function readField(message: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const choice = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  if (choice?.case !== field.localName) return undefined;
  // A oneof member that is chosen counts even at its default value: choosing it is the setting.
  return isSet(choice.value) ? choice.value : true;
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === 0n || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Uint8Array) return value.byteLength > 0;
  if (value instanceof Map) return value.size > 0;
  if (typeof value === 'object' && !('$typeName' in value)) return Object.keys(value).length > 0;
  return true;
}

/**
 * Checks the fields a config sets against CONFIG_FIELDS: throws ModelConfigError for the
 * first refused field, and returns one warning per field set that Nereid does not act on
 * (one per warned subtree, named at its root).
 */
export function checkConfigFields(config: ModelConfig): string[] {
  const warnings: string[] = [];
  const reported = new Set<string>();
  for (const path of [...setFieldPaths(config)].sort()) {
    const rule = fieldTreatment(path);
    if (rule === undefined || rule.treatment === 'acted') continue;
    // Report a warned or refused subtree once, at its root.
    const root = rootOf(path);
    if (reported.has(root)) continue;
    reported.add(root);
    if (rule.treatment === 'refused') throw new ModelConfigError(`model '${config.name}': ${root} is not supported: ${rule.why}`);
    warnings.push(`model '${config.name}': config field ${root} is not acted on: ${rule.why}`);
  }
  return warnings;
}

function rootOf(path: string): string {
  const parts = path.split('.');
  for (let n = 1; n <= parts.length; n++) {
    const candidate = parts.slice(0, n).join('.');
    const rule = CONFIG_FIELDS.get(candidate);
    if (rule !== undefined && rule.treatment !== 'acted') return candidate;
  }
  return path;
}
