import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DataType, ModelConfig, ModelInstanceGroup_Kind as Kind, ModelSequenceBatching_Control_Kind as Control } from '../../../src/generated/model_config.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { normalizeModelConfig } from '../../../src/repository/normalize-config.js';
import { schedulingPolicyFromConfig } from '../../../src/repository/scheduling-policy.js';
import { readInitialStates, sequenceControls, sequenceStates } from '../../../src/repository/sequence-config.js';
import { validateAgainstOnnx, validateModelConfig } from '../../../src/repository/validate-config.js';
import { scratchDirectory } from '../../helpers/fixtures.js';

type Partial = Parameters<typeof ModelConfig.fromPartial>[0];
type Batching = NonNullable<Extract<NonNullable<Partial>['schedulingChoice'], { $case: 'sequenceBatching' }>['value']>;

const START = { name: 'START', control: [{ kind: Control.CONTROL_SEQUENCE_START, int32FalseTrue: [0, 1] }] };
const READY = { name: 'READY', control: [{ kind: Control.CONTROL_SEQUENCE_READY, int32FalseTrue: [0, 1] }] };
const STATE = { inputName: 'INPUT_STATE', outputName: 'OUTPUT_STATE', dataType: DataType.TYPE_INT32, dims: [1n] };

/** simple_sequence's config, with `batching` merged into its sequence_batching block. */
function sequenceModel(batching: Batching = {}, overrides: Partial = {}): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'seq',
    backend: 'onnxruntime',
    platform: 'onnxruntime_onnx',
    maxBatchSize: 8,
    input: [{ name: 'INPUT', dataType: DataType.TYPE_INT32, dims: [1n] }],
    output: [{ name: 'OUTPUT', dataType: DataType.TYPE_INT32, dims: [1n] }],
    instanceGroup: [{ name: 'seq_0', kind: Kind.KIND_CPU, count: 1 }],
    schedulingChoice: { $case: 'sequenceBatching', value: { controlInput: [START, READY], ...batching } },
    ...overrides,
  });
}

function rejects(config: ModelConfig, message: string): void {
  assert.throws(() => validateModelConfig(config), (err: unknown) => err instanceof ModelConfigError && err.message === message);
}

const devices = { cpuCores: 2, cpu: { arch: 'x64', flags: [] }, gpuIds: [], providers: { cpu: { available: true }, cuda: { available: false }, webgpu: { available: false } } } as never;

describe('sequence_batching config', () => {
  it('reads controls as Triton feeds them: kind, type and [false, true] values', () => {
    const config = sequenceModel({
      controlInput: [
        { name: 'S', control: [{ kind: Control.CONTROL_SEQUENCE_START, fp32FalseTrue: [0, 1] }] },
        { name: 'E', control: [{ kind: Control.CONTROL_SEQUENCE_END, boolFalseTrue: [false, true] }] },
        { name: 'R', control: [{ kind: Control.CONTROL_SEQUENCE_READY, int32FalseTrue: [5, 7] }] },
        { name: 'C', control: [{ kind: Control.CONTROL_SEQUENCE_CORRID, dataType: DataType.TYPE_STRING }] },
      ],
    });
    assert.deepEqual(sequenceControls(config), [
      { name: 'S', kind: 'start', datatype: 'FP32', falseTrue: [0, 1] },
      { name: 'E', kind: 'end', datatype: 'BOOL', falseTrue: [0, 1] },
      { name: 'R', kind: 'ready', datatype: 'INT32', falseTrue: [5, 7] },
      { name: 'C', kind: 'corrid', datatype: 'BYTES' },
    ]);
    validateModelConfig(config);
  });

  it('refuses malformed controls with the reason', () => {
    const control = (c: object) => sequenceModel({ controlInput: [{ name: 'X', control: [c] }] });
    rejects(control({ kind: Control.CONTROL_SEQUENCE_START }), "model 'seq': sequence_batching control 'X' must give exactly one of int32_false_true, fp32_false_true or bool_false_true, with two values [false, true]");
    rejects(control({ kind: Control.CONTROL_SEQUENCE_START, int32FalseTrue: [0, 1], fp32FalseTrue: [0, 1] }), "model 'seq': sequence_batching control 'X' must give exactly one of int32_false_true, fp32_false_true or bool_false_true, with two values [false, true]");
    rejects(control({ kind: Control.CONTROL_SEQUENCE_READY, int32FalseTrue: [1] }), "model 'seq': sequence_batching control 'X' must give exactly one of int32_false_true, fp32_false_true or bool_false_true, with two values [false, true]");
    rejects(
      control({ kind: Control.CONTROL_SEQUENCE_CORRID, dataType: DataType.TYPE_FP32 }),
      "model 'seq': sequence_batching CORRID control 'X' must have data_type TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING, got TYPE_FP32",
    );
    rejects(sequenceModel({ controlInput: [START, { ...START, name: 'START2' }] }), "model 'seq': sequence_batching specifies more than one CONTROL_SEQUENCE_START control");
    rejects(sequenceModel({ controlInput: [{ name: 'X', control: [] }] }), "model 'seq': sequence_batching control_input 'X' must have exactly one control, got 0");
    rejects(
      sequenceModel({}, { input: [{ name: 'START', dataType: DataType.TYPE_INT32, dims: [1n] }] }),
      "model 'seq': input 'START' is a sequence control or state input, which the server feeds; remove it from 'input'",
    );
    rejects(sequenceModel({ iterativeSequence: true }), "model 'seq': sequence_batching iterative_sequence is not supported");
    rejects(
      sequenceModel({ strategyChoice: { $case: 'oldest', value: { preferredBatchSize: [9] } } }),
      "model 'seq': sequence_batching oldest preferred size 9 must be between 1 and max_batch_size 8",
    );
    rejects(
      sequenceModel({ strategyChoice: { $case: 'direct', value: { minimumSlotUtilization: 1.5 } } }),
      "model 'seq': sequence_batching direct minimum_slot_utilization must be between 0 and 1, got 1.5",
    );
  });

  it('checks implicit states and their initial_state with Triton texts', () => {
    assert.deepEqual(sequenceStates(sequenceModel({ state: [{ ...STATE, dims: [-1n] }] })), [{ inputName: 'INPUT_STATE', outputName: 'OUTPUT_STATE', datatype: 'INT32', dims: [-1] }]);
    rejects(sequenceModel({ state: [{ ...STATE, dataType: DataType.TYPE_STRING }] }), "model 'seq': sequence_batching state 'INPUT_STATE' has data_type TYPE_STRING; Nereid keeps numeric states only (not TYPE_STRING, TYPE_BF16)");
    rejects(sequenceModel({ state: [STATE, STATE] }), "model 'seq': sequence_batching state 'INPUT_STATE': its input_name or output_name is used by another state");
    const initial = (i: object) => sequenceModel({ state: [{ ...STATE, initialState: [{ dataType: DataType.TYPE_INT32, dims: [1n], stateData: { $case: 'zeroData', value: true }, name: 'zero', ...i }] }] });
    rejects(initial({ dataType: DataType.TYPE_FP32 }), "model 'seq': The data type used for 'initial_state' field of state 'INPUT_STATE' does not match the state data type.");
    rejects(initial({ name: '' }), "model 'seq': Field 'name' must be set when using initial_state for state input 'INPUT_STATE'.");
    rejects(initial({ dims: [1n, 1n] }), "model 'seq': Number of dimensions in 'initial_state' doesn't match the size of 'state' dimensions for state input 'INPUT_STATE'. 2 != 1");
    rejects(initial({ dims: [2n] }), "model 'seq': 'initial_state' dim for input name 'INPUT_STATE' doesn't match 'state' dim description. 2 != 1");
    rejects(initial({ dims: [-1n] }), "model 'seq': 'initial_state' field for state input name 'INPUT_STATE' contains variable dimensions.");
    rejects(initial({ stateData: undefined }), "model 'seq': initial_state setting expects state'INPUT_STATE' to have state_data set");
    validateModelConfig(initial({}));
  });

  it('normalizes as Triton: idle 1 s, oldest preferred sizes [max_batch_size]; the policy carries slots and delays', () => {
    const direct = normalizeModelConfig(sequenceModel(), devices);
    const policy = schedulingPolicyFromConfig(direct);
    assert.equal(policy.kind, 'sequence');
    assert.ok(policy.kind === 'sequence');
    assert.equal(policy.strategy, 'direct');
    assert.equal(policy.maxSequenceIdleUs, 1_000_000);
    assert.equal(policy.slotsPerInstance, 8);
    const oldest = normalizeModelConfig(sequenceModel({ strategyChoice: { $case: 'oldest', value: { maxCandidateSequences: 1024, maxQueueDelayMicroseconds: 10000n } } }), devices);
    const oldestPolicy = schedulingPolicyFromConfig(oldest);
    assert.ok(oldestPolicy.kind === 'sequence');
    assert.deepEqual([oldestPolicy.strategy, oldestPolicy.slotsPerInstance, oldestPolicy.maxQueueDelayUs, oldestPolicy.preferredBatchSizes], ['oldest', 1024, 10000, [8]]);
    const nobatch = schedulingPolicyFromConfig(normalizeModelConfig(sequenceModel({}, { maxBatchSize: 0 }), devices));
    assert.ok(nobatch.kind === 'sequence');
    assert.equal(nobatch.slotsPerInstance, 1);
  });

  it('reads an initial_state data file from the model folder, refusing a short one or one outside it', async () => {
    const dir = scratchDirectory('initial-state');
    mkdirSync(path.join(dir, 'initial_state'));
    writeFileSync(path.join(dir, 'initial_state', 'acc'), Buffer.from(Int32Array.of(42, 7).buffer));
    const withFile = (file: string, dims = [1n]) =>
      sequenceModel({ state: [{ ...STATE, initialState: [{ dataType: DataType.TYPE_INT32, dims, stateData: { $case: 'dataFile', value: file }, name: 'from file' }] }] });
    const states = await readInitialStates(withFile('acc'), dir);
    assert.deepEqual([...new Int32Array(states.get('INPUT_STATE')!.slice().buffer)], [42]);
    await assert.rejects(readInitialStates(withFile('acc', [3n]), dir), { message: "model 'seq': initial_state setting expects 12 bytes, but the data provided from acc only has 8 bytes." });
    await assert.rejects(readInitialStates(withFile('../../etc'), dir), { message: "model 'seq': initial_state data_file '../../etc' must name a file inside the model's initial_state/ folder" });
  });

  it('allows control and state inputs missing from the config when the ONNX graph has them, with the right types', () => {
    const config = sequenceModel({ state: [STATE] });
    const io = (name: string, datatype: 'INT32' | 'FP32') => ({ name, elemType: datatype === 'INT32' ? 6 : 1, datatype, dims: [-1, 1] });
    const onnx = { inputs: [io('INPUT', 'INT32'), io('START', 'INT32'), io('READY', 'INT32'), io('INPUT_STATE', 'INT32')], outputs: [io('OUTPUT', 'INT32'), io('OUTPUT_STATE', 'INT32')] };
    validateAgainstOnnx(config, onnx as never);
    assert.throws(() => validateAgainstOnnx(config, { ...onnx, inputs: [io('INPUT', 'INT32'), io('START', 'FP32'), io('READY', 'INT32'), io('INPUT_STATE', 'INT32')] } as never), {
      message: "model 'seq': sequence control 'START' is INT32 but the ONNX model's input is FP32",
    });
    assert.throws(() => validateAgainstOnnx(config, { ...onnx, outputs: [io('OUTPUT', 'INT32')] } as never), {
      message: "model 'seq': state output 'OUTPUT_STATE' is not an output of the ONNX model (its outputs are [OUTPUT])",
    });
  });
});

describe('repeat backend config', () => {
  const repeat = (overrides: Partial = {}) =>
    ModelConfig.fromPartial({
      name: 'repeat_int32',
      backend: 'repeat',
      maxBatchSize: 0,
      modelTransactionPolicy: { decoupled: true },
      input: [
        { name: 'IN', dataType: DataType.TYPE_INT32, dims: [-1n] },
        { name: 'DELAY', dataType: DataType.TYPE_UINT32, dims: [-1n] },
        { name: 'WAIT', dataType: DataType.TYPE_UINT32, dims: [1n] },
      ],
      output: [
        { name: 'OUT', dataType: DataType.TYPE_INT32, dims: [1n] },
        { name: 'IDX', dataType: DataType.TYPE_UINT32, dims: [1n] },
      ],
      instanceGroup: [{ name: 'repeat_int32_0', kind: Kind.KIND_CPU, count: 1 }],
      ...overrides,
    });

  it("accepts Triton's repeat_int32 and refuses what Triton's repeat backend refuses, in its words", () => {
    validateModelConfig(repeat());
    rejects(repeat({ maxBatchSize: 8 }), "model 'repeat_int32': repeat backend only supports models with max_batch_size == 0");
    rejects(repeat({ modelTransactionPolicy: { decoupled: false } }), "model 'repeat_int32': the repeat backend sends several responses per request, so it needs model_transaction_policy { decoupled: true }");
    const inputs = repeat().input;
    rejects(repeat({ input: [inputs[1]!, inputs[0]!, inputs[2]!] }), "model 'repeat_int32': expected first input tensor name to be IN, got DELAY");
    rejects(repeat({ input: [inputs[0]!, { ...inputs[1]!, dims: [3n] }, inputs[2]!] }), "model 'repeat_int32': expected IN and DELAY shape to match, got [-1] and [3]");
    rejects(repeat({ input: [inputs[0]!, { ...inputs[1]!, dataType: DataType.TYPE_INT32 }, inputs[2]!] }), "model 'repeat_int32': expected DELAY datatype to be UINT32, got TYPE_INT32");
    rejects(repeat({ output: [repeat().output[0]!] }), "model 'repeat_int32': expected 2 outputs, got 1");
  });
});
