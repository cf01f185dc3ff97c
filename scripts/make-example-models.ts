/**
 * Writes the example model repository (Triton layout) used for demos and
 * client compatibility checks:
 *
 * - `simple`          INT32  OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1
 * - `simple_int8`     the same on INT8 tensors (computed in INT32, cast back)
 * - `simple_string`   the same on STRING tensors holding decimal numbers
 * - `simple_identity` STRING OUTPUT0 = INPUT0, variable length (identity backend)
 * - `simple_sequence` stateless sequence model (direct strategy): OUTPUT = READY * (INPUT + START)
 * - `simple_dyna_sequence` the same with END and a UINT64 CORRID (oldest strategy):
 *                     OUTPUT = READY * (INPUT + START + END * CORRID)
 * - `simple_string_dyna_sequence` an accumulator in implicit state, CORRID as a string
 *                     (oldest strategy): acc = START ? INPUT : acc + INPUT; OUTPUT = acc + END * CORRID
 * - `repeat_int32`    Triton's repeat example (decoupled, built-in `repeat` backend)
 *
 * The sequence models have Triton's names and configs (server: docs/examples/model_repository
 * and qa/L0_grpc), so Triton's simple_grpc_sequence_* clients run against them unchanged.
 *
 * Usage: npx tsx scripts/make-example-models.ts [outDir]   (default: models/)
 * Output is deterministic: re-running produces byte-identical files.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DataType, attr, encodeModel, graph, model, node, tensor, valueInfo } from '../src/onnx/graph-builder.js';
import { isMain, writeModel, type ModelConfig } from './lib/model-repo.js';

const BATCH = 'batch';

/** Config for a two-input / two-output "simple" model of the given Triton type. */
function simpleConfig(name: string, tritonType: string): ModelConfig {
  const t = (n: string) => ({ name: n, dataType: tritonType, dims: [16] });
  return { name, maxBatchSize: 8, inputs: [t('INPUT0'), t('INPUT1')], outputs: [t('OUTPUT0'), t('OUTPUT1')] };
}

/**
 * A "simple" model on `elemType` tensors of shape [batch, 16]. Unless the type
 * is INT32 the inputs are cast to INT32, added/subtracted, and cast back.
 */
function simpleModel(elemType: DataType): Uint8Array {
  const io = (n: string) => valueInfo(n, elemType, [BATCH, 16]);
  const native = elemType === DataType.INT32;
  const [a, b] = native ? ['INPUT0', 'INPUT1'] : ['a32', 'b32'];
  const [sum, diff] = native ? ['OUTPUT0', 'OUTPUT1'] : ['sum32', 'diff32'];
  const nodes = [
    ...(native
      ? []
      : [
          node('Cast', ['INPUT0'], [a], { to: attr.int(DataType.INT32) }),
          node('Cast', ['INPUT1'], [b], { to: attr.int(DataType.INT32) }),
        ]),
    node('Add', [a, b], [sum]),
    node('Sub', [a, b], [diff]),
    ...(native
      ? []
      : [
          node('Cast', [sum], ['OUTPUT0'], { to: attr.int(elemType) }),
          node('Cast', [diff], ['OUTPUT1'], { to: attr.int(elemType) }),
        ]),
  ];
  const g = graph({
    name: 'simple',
    nodes,
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0'), io('OUTPUT1')],
  });
  return encodeModel(model(g));
}

const CONTROL = (name: string, kind: string) =>
  `    {\n      name: "${name}"\n      control [\n        {\n          kind: ${kind}\n          int32_false_true: [ 0, 1 ]\n        }\n      ]\n    }`;
const CORRID = (type: string) =>
  `    {\n      name: "CORRID"\n      control [\n        {\n          kind: CONTROL_SEQUENCE_CORRID\n          data_type: ${type}\n        }\n      ]\n    }`;
const ONE_INT32 = (name: string) => valueInfo(name, DataType.INT32, [BATCH, 1]);

/** simple_sequence: OUTPUT = READY * (INPUT + START), no state (the QA sequence models' arithmetic). */
function simpleSequenceModel(): Uint8Array {
  const g = graph({
    name: 'simple_sequence',
    nodes: [node('Add', ['INPUT', 'START'], ['sum']), node('Mul', ['READY', 'sum'], ['OUTPUT'])],
    inputs: [ONE_INT32('INPUT'), ONE_INT32('START'), ONE_INT32('READY')],
    outputs: [ONE_INT32('OUTPUT')],
  });
  return encodeModel(model(g));
}

/** simple_dyna_sequence: OUTPUT = READY * (INPUT + START + END * int32(CORRID)), CORRID a UINT64. */
function simpleDynaSequenceModel(): Uint8Array {
  const g = graph({
    name: 'simple_dyna_sequence',
    nodes: [
      node('Cast', ['CORRID'], ['corrid32'], { to: attr.int(DataType.INT32) }),
      node('Mul', ['END', 'corrid32'], ['end_corrid']),
      node('Add', ['INPUT', 'START'], ['sum']),
      node('Add', ['sum', 'end_corrid'], ['total']),
      node('Mul', ['READY', 'total'], ['OUTPUT']),
    ],
    inputs: [ONE_INT32('INPUT'), ONE_INT32('START'), ONE_INT32('END'), ONE_INT32('READY'), valueInfo('CORRID', DataType.UINT64, [BATCH, 1])],
    outputs: [ONE_INT32('OUTPUT')],
  });
  return encodeModel(model(g));
}

/**
 * simple_string_dyna_sequence as an accumulator in implicit state (Triton's is a custom
 * backend keeping it itself): acc = INPUT + (1 - START) * INPUT_STATE, OUTPUT_STATE = acc,
 * OUTPUT = READY * (acc + END * int32(CORRID)), CORRID a string of digits.
 */
function simpleStringDynaSequenceModel(): Uint8Array {
  const g = graph({
    name: 'simple_string_dyna_sequence',
    nodes: [
      node('Sub', ['one', 'START'], ['not_start']),
      node('Mul', ['not_start', 'INPUT_STATE'], ['carried']),
      node('Add', ['INPUT', 'carried'], ['OUTPUT_STATE']),
      node('Cast', ['CORRID'], ['corrid32'], { to: attr.int(DataType.INT32) }),
      node('Mul', ['END', 'corrid32'], ['end_corrid']),
      node('Add', ['OUTPUT_STATE', 'end_corrid'], ['total']),
      node('Mul', ['READY', 'total'], ['OUTPUT']),
    ],
    inputs: [
      ONE_INT32('INPUT'),
      ONE_INT32('START'),
      ONE_INT32('END'),
      ONE_INT32('READY'),
      valueInfo('CORRID', DataType.STRING, [BATCH, 1]),
      ONE_INT32('INPUT_STATE'),
    ],
    outputs: [ONE_INT32('OUTPUT'), ONE_INT32('OUTPUT_STATE')],
    initializers: [tensor('one', Int32Array.of(1), [1])],
  });
  return encodeModel(model(g));
}

const SEQUENCE_IO = { maxBatchSize: 8, inputs: [{ name: 'INPUT', dataType: 'TYPE_INT32', dims: [1] }], outputs: [{ name: 'OUTPUT', dataType: 'TYPE_INT32', dims: [1] }] };

/** The oldest strategy as Triton's simple_dyna_sequence configures it, with START, END, READY and CORRID. */
function dynaSequenceBatching(corridType: string, extra = ''): string {
  const controls = [CONTROL('START', 'CONTROL_SEQUENCE_START'), CONTROL('END', 'CONTROL_SEQUENCE_END'), CONTROL('READY', 'CONTROL_SEQUENCE_READY'), CORRID(corridType)];
  return (
    'sequence_batching {\n  max_sequence_idle_microseconds: 10000000\n  oldest {\n    max_candidate_sequences: 1024\n    max_queue_delay_microseconds: 10000\n  }\n' +
    `  control_input [\n${controls.join(',\n')}\n  ]\n${extra}}\ninstance_group [\n  {\n    count: 2\n    kind: KIND_CPU\n  }\n]`
  );
}

const ACCUMULATOR_STATE =
  '  state [\n    {\n      input_name: "INPUT_STATE"\n      output_name: "OUTPUT_STATE"\n      data_type: TYPE_INT32\n      dims: [ 1 ]\n' +
  '      initial_state {\n        data_type: TYPE_INT32\n        dims: [ 1 ]\n        zero_data: true\n        name: "zero"\n      }\n    }\n  ]\n';

/** Writes the example models under `outDir`; returns the model directories written. */
export async function makeExampleModels(outDir: string): Promise<string[]> {
  const written: string[] = [];
  const add = async (name: string, bytes: Uint8Array | null, config: ModelConfig) => {
    written.push(await writeModel(outDir, name, bytes, config));
  };
  // Dynamic batching on the INT32 model: concurrent clients share executions (and thread hops).
  await add('simple', simpleModel(DataType.INT32), { ...simpleConfig('simple', 'TYPE_INT32'), extra: 'dynamic_batching { }' });
  await add('simple_int8', simpleModel(DataType.INT8), simpleConfig('simple_int8', 'TYPE_INT8'));
  await add('simple_string', simpleModel(DataType.STRING), simpleConfig('simple_string', 'TYPE_STRING'));
  // Identity backend, not ONNX: onnxruntime-node cuts input strings at NUL bytes, and
  // Triton's clients send NULs to simple_identity (Triton itself uses a Python model).
  await add('simple_identity', null, {
    name: 'simple_identity',
    backend: 'identity',
    maxBatchSize: 8,
    inputs: [{ name: 'INPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
    outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
  });
  await add('simple_sequence', simpleSequenceModel(), {
    name: 'simple_sequence',
    ...SEQUENCE_IO,
    extra:
      `sequence_batching {\n  control_input [\n${CONTROL('START', 'CONTROL_SEQUENCE_START')},\n${CONTROL('READY', 'CONTROL_SEQUENCE_READY')}\n  ]\n}\n` +
      'instance_group [\n  {\n    kind: KIND_CPU\n  }\n]',
  });
  await add('simple_dyna_sequence', simpleDynaSequenceModel(), { name: 'simple_dyna_sequence', ...SEQUENCE_IO, extra: dynaSequenceBatching('TYPE_UINT64') });
  await add('simple_string_dyna_sequence', simpleStringDynaSequenceModel(), {
    name: 'simple_string_dyna_sequence',
    ...SEQUENCE_IO,
    extra: dynaSequenceBatching('TYPE_STRING', ACCUMULATOR_STATE),
  });
  // Triton's repeat example (server: src/test/models/repeat_int32): no model file, the built-in backend.
  await add('repeat_int32', null, {
    name: 'repeat_int32',
    backend: 'repeat',
    maxBatchSize: 0,
    inputs: [
      { name: 'IN', dataType: 'TYPE_INT32', dims: [-1] },
      { name: 'DELAY', dataType: 'TYPE_UINT32', dims: [-1] },
      { name: 'WAIT', dataType: 'TYPE_UINT32', dims: [1] },
    ],
    outputs: [
      { name: 'OUT', dataType: 'TYPE_INT32', dims: [1] },
      { name: 'IDX', dataType: 'TYPE_UINT32', dims: [1] },
    ],
    extra: 'model_transaction_policy {\n  decoupled: true\n}\ninstance_group [\n  {\n    kind: KIND_CPU\n  }\n]',
  });
  return written;
}

if (isMain(import.meta.url)) {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'models'));
  for (const dir of await makeExampleModels(outDir)) console.log(`wrote ${dir}`);
}
