import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { elementByteSize } from '../core/data-type.js';
import type { ControlKind, ControlTensor, SequenceBatchingPolicy, StateTensor } from '../core/sequence-policy.js';
import { DataType, ModelSequenceBatching_Control_Kind as Kind, type ModelConfig, type ModelSequenceBatching } from '../generated/model_config.js';
import type { OnnxMetadata, OnnxTensorInfo } from '../onnx/onnx-metadata.js';
import { configDataTypeName, toProtocolDataType } from './config-data-type.js';
import { ModelConfigError } from './config-error.js';

/** Triton's folder, inside the model directory, for initial_state data files. */
export const INITIAL_STATE_FOLDER = 'initial_state';

const KINDS: ReadonlyMap<Kind, ControlKind> = new Map([
  [Kind.CONTROL_SEQUENCE_START, 'start'],
  [Kind.CONTROL_SEQUENCE_END, 'end'],
  [Kind.CONTROL_SEQUENCE_READY, 'ready'],
  [Kind.CONTROL_SEQUENCE_CORRID, 'corrid'],
]);
const CORRID_TYPES = [DataType.TYPE_UINT64, DataType.TYPE_INT64, DataType.TYPE_UINT32, DataType.TYPE_INT32, DataType.TYPE_STRING];

/** The sequence_batching block of a config, or undefined. */
export function sequenceBatching(config: ModelConfig): ModelSequenceBatching | undefined {
  return config.schedulingChoice?.$case === 'sequenceBatching' ? config.schedulingChoice.value : undefined;
}

function failer(config: ModelConfig): (message: string) => never {
  return (message) => {
    throw new ModelConfigError(`model '${config.name}': ${message}`);
  };
}

/**
 * The control tensors of a sequence model (empty for other models), checked as Triton
 * checks them: one control per control_input, each kind at most once, START/END/READY
 * with exactly one `*_false_true` pair, CORRID with an integer or TYPE_STRING data_type.
 */
export function sequenceControls(config: ModelConfig): ControlTensor[] {
  const batching = sequenceBatching(config);
  if (batching === undefined) return [];
  const fail = failer(config);
  const controls: ControlTensor[] = [];
  for (const input of batching.controlInput) {
    if (input.name === '') fail('sequence_batching control_input must have a name');
    if (input.control.length !== 1) fail(`sequence_batching control_input '${input.name}' must have exactly one control, got ${input.control.length}`);
    const control = input.control[0]!;
    const kind = KINDS.get(control.kind);
    if (kind === undefined) fail(`sequence_batching control_input '${input.name}' has an unknown kind`);
    if (controls.some((c) => c.kind === kind)) fail(`sequence_batching specifies more than one CONTROL_SEQUENCE_${kind!.toUpperCase()} control`);
    if (controls.some((c) => c.name === input.name)) fail(`sequence_batching control_input '${input.name}' is declared twice`);
    if (kind === 'corrid') {
      if (!CORRID_TYPES.includes(control.dataType)) {
        fail(`sequence_batching CORRID control '${input.name}' must have data_type TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING, got ${configDataTypeName(control.dataType)}`);
      }
      controls.push({ name: input.name, kind: 'corrid', datatype: toProtocolDataType(control.dataType)! });
      continue;
    }
    const pairs = [
      ['INT32', control.int32FalseTrue],
      ['FP32', control.fp32FalseTrue],
      ['BOOL', control.boolFalseTrue.map((b) => (b ? 1 : 0))],
    ] as const;
    const given = pairs.filter(([, values]) => values.length > 0);
    if (given.length !== 1 || given[0]![1].length !== 2) {
      fail(`sequence_batching control '${input.name}' must give exactly one of int32_false_true, fp32_false_true or bool_false_true, with two values [false, true]`);
    }
    const [datatype, values] = given[0]!;
    controls.push({ name: input.name, kind: kind!, datatype, falseTrue: [values[0]!, values[1]!] });
  }
  return controls;
}

/** The implicit states of a sequence model (empty for other models), checked; initial data is read separately. */
export function sequenceStates(config: ModelConfig): StateTensor[] {
  const batching = sequenceBatching(config);
  if (batching === undefined) return [];
  const fail = failer(config);
  const states: StateTensor[] = [];
  for (const state of batching.state) {
    const what = `sequence_batching state '${state.inputName}'`;
    if (state.inputName === '' || state.outputName === '') fail('every sequence_batching state must have an input_name and an output_name');
    if (states.some((s) => s.inputName === state.inputName || s.outputName === state.outputName)) fail(`${what}: its input_name or output_name is used by another state`);
    const datatype = toProtocolDataType(state.dataType);
    if (datatype === undefined || datatype === 'BYTES' || datatype === 'BF16') {
      fail(`${what} has data_type ${configDataTypeName(state.dataType)}; Nereid keeps numeric states only (not TYPE_STRING, TYPE_BF16)`);
    }
    if (state.dims.length === 0 || state.dims.some((d) => d === 0n || d < -1n)) fail(`${what} must have dims, each >= 1 or -1`);
    const dims = state.dims.map(Number);
    if (state.initialState.length > 1) {
      fail(`initial_state field for state input '${state.inputName}' must contain exactly one or zero element. Found '${state.initialState.length}' elements.`);
    }
    let initial: StateTensor['initial'];
    const init = state.initialState[0];
    if (init !== undefined) {
      if (init.dataType !== state.dataType) fail(`The data type used for 'initial_state' field of state '${state.inputName}' does not match the state data type.`);
      if (init.name === '') fail(`Field 'name' must be set when using initial_state for state input '${state.inputName}'.`);
      if (init.dims.length !== state.dims.length) {
        fail(`Number of dimensions in 'initial_state' doesn't match the size of 'state' dimensions for state input '${state.inputName}'. ${init.dims.length} != ${state.dims.length}`);
      }
      const initDims = init.dims.map(Number);
      initDims.forEach((d, i) => {
        if (d < 1) fail(`'initial_state' field for state input name '${state.inputName}' contains variable dimensions.`);
        if (dims[i] !== -1 && d !== dims[i]) fail(`'initial_state' dim for input name '${state.inputName}' doesn't match 'state' dim description. ${d} != ${dims[i]}`);
      });
      if (init.stateData === undefined) fail(`initial_state setting expects state'${state.inputName}' to have state_data set`);
      // The bytes are read with the model's files (readInitialStates); zeros until then.
      const bytes = initDims.reduce((a, b) => a * b, 1) * elementByteSize(datatype!);
      initial = { dims: initDims, data: new Uint8Array(bytes) };
    }
    states.push({ inputName: state.inputName, outputName: state.outputName, datatype: datatype!, dims, ...(initial !== undefined ? { initial } : {}) });
  }
  return states;
}

/**
 * Checks a sequence_batching block beyond its controls and states: the strategy's
 * settings, and that no control or state input is also a client input.
 */
export function checkSequenceBatching(config: ModelConfig): void {
  const batching = sequenceBatching(config);
  if (batching === undefined) return;
  const fail = failer(config);
  if (batching.iterativeSequence) fail('sequence_batching iterative_sequence is not supported');
  const strategy = batching.strategyChoice;
  if (strategy?.$case === 'direct') {
    const utilization = strategy.value.minimumSlotUtilization;
    if (!(utilization >= 0 && utilization <= 1)) fail(`sequence_batching direct minimum_slot_utilization must be between 0 and 1, got ${utilization}`);
  }
  if (strategy?.$case === 'oldest') {
    if (strategy.value.maxCandidateSequences < 0) fail('sequence_batching oldest max_candidate_sequences must be >= 0');
    for (const size of strategy.value.preferredBatchSize) {
      if (size < 1 || size > Math.max(1, config.maxBatchSize)) {
        fail(`sequence_batching oldest preferred size ${size} must be between 1 and max_batch_size ${config.maxBatchSize}`);
      }
    }
  }
  const fed = [...sequenceControls(config).map((c) => c.name), ...sequenceStates(config).map((s) => s.inputName)];
  for (const input of config.input) {
    if (fed.includes(input.name)) fail(`input '${input.name}' is a sequence control or state input, which the server feeds; remove it from 'input'`);
  }
  const variants = config.parameters['precision_variants']?.stringValue.split(',').map((p) => p.trim()).filter((p) => p !== '' && p !== 'fp32') ?? [];
  if (variants.length > 0) fail('precision variants are not built for sequence models (their control and state inputs have no sample data)');
}

/**
 * Checks that the ONNX graph takes every control and state input the sequence batcher
 * will feed, in the configured element type, and gives every state output.
 */
export function checkSequenceAgainstOnnx(config: ModelConfig, onnx: OnnxMetadata): void {
  const fail = failer(config);
  const check = (kind: 'input' | 'output', what: string, name: string, datatype: string, graph: readonly OnnxTensorInfo[]) => {
    const found = graph.find((t) => t.name === name);
    if (found === undefined) fail(`${what} '${name}' is not an ${kind} of the ONNX model (its ${kind}s are [${graph.map((t) => t.name).join(', ')}])`);
    if (found!.datatype !== datatype) {
      fail(`${what} '${name}' is ${datatype} but the ONNX model's ${kind} is ${found!.datatype ?? `ONNX element type ${found!.elemType}`}`);
    }
  };
  for (const control of sequenceControls(config)) check('input', `sequence control`, control.name, control.datatype, onnx.inputs);
  for (const state of sequenceStates(config)) {
    check('input', 'state input', state.inputName, state.datatype, onnx.inputs);
    check('output', 'state output', state.outputName, state.datatype, onnx.outputs);
  }
}

/** The bytes of every initial_state read from a data_file (zero_data states need none), by state input name. */
export async function readInitialStates(config: ModelConfig, modelDir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const fail = failer(config);
  for (const state of sequenceBatching(config)?.state ?? []) {
    const init = state.initialState[0];
    if (init?.stateData?.$case !== 'dataFile') continue;
    const file = init.stateData.value;
    const folder = path.resolve(modelDir, INITIAL_STATE_FOLDER);
    const full = path.resolve(folder, file);
    if (path.relative(folder, full).startsWith('..') || path.isAbsolute(path.relative(folder, full))) {
      fail(`initial_state data_file '${file}' must name a file inside the model's ${INITIAL_STATE_FOLDER}/ folder`);
    }
    let data: Buffer;
    try {
      data = await readFile(full);
    } catch (err) {
      fail(`cannot read initial_state data_file '${file}' for state '${state.inputName}': ${(err as Error).message}`);
    }
    const expected = init.dims.reduce((a, b) => a * b, 1n) * BigInt(elementByteSize(toProtocolDataType(state.dataType)!));
    if (BigInt(data!.byteLength) < expected) {
      fail(`initial_state setting expects ${expected} bytes, but the data provided from ${file} only has ${data!.byteLength} bytes.`);
    }
    out.set(state.inputName, new Uint8Array(data!.subarray(0, Number(expected))));
  }
  return out;
}

/** The sequence batcher's policy for a validated sequence model. */
export function sequencePolicy(config: ModelConfig, initialData: ReadonlyMap<string, Uint8Array>): SequenceBatchingPolicy {
  const batching = sequenceBatching(config)!;
  const oldest = batching.strategyChoice?.$case === 'oldest' ? batching.strategyChoice.value : undefined;
  const direct = batching.strategyChoice?.$case === 'direct' ? batching.strategyChoice.value : undefined;
  const slots = Math.max(1, config.maxBatchSize);
  const states = sequenceStates(config).map((state) => {
    const data = initialData.get(state.inputName);
    return data === undefined || state.initial === undefined ? state : { ...state, initial: { dims: state.initial.dims, data } };
  });
  return {
    maxBatchSize: config.maxBatchSize,
    strategy: oldest !== undefined ? 'oldest' : 'direct',
    maxSequenceIdleUs: Number(batching.maxSequenceIdleMicroseconds),
    slotsPerInstance: oldest !== undefined && oldest.maxCandidateSequences > 0 ? oldest.maxCandidateSequences : slots,
    maxQueueDelayUs: Number(oldest?.maxQueueDelayMicroseconds ?? direct?.maxQueueDelayMicroseconds ?? 0n),
    minimumSlotUtilization: direct?.minimumSlotUtilization ?? 0,
    preferredBatchSizes: [...new Set(oldest?.preferredBatchSize.length ? oldest.preferredBatchSize : [slots])].sort((a, b) => a - b),
    controls: sequenceControls(config),
    states,
  };
}
