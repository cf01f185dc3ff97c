/**
 * The benchmark workloads: which model, from which repository, with which request.
 * Everything comes from this repository or npm devDependencies; nothing is downloaded.
 */
import { fileURLToPath } from 'node:url';
import { makeOcrRepository, type OcrPrecisionOptions } from '../make-ocr-repository.js';
import { makePrecisionRepository } from '../make-precision-repository.js';
import { seededRandom } from '../../src/variants/sample-inputs.js';

/** Deterministic pseudo-random numbers (mulberry32), so a seed reproduces the data. */
export { seededRandom };

export interface InputSpec {
  readonly name: string;
  readonly datatype: 'INT32' | 'FP32';
  /** Shape of one request, batch dimension included. */
  readonly shape: readonly number[];
}

export interface Workload {
  readonly name: string;
  readonly model: string;
  /** Builds (or finds) the model repository holding `model`; with `precision`, serving fp16 and int8 too. */
  repository(scratch: string, precision?: OcrPrecisionOptions): Promise<string>;
  readonly inputs: readonly InputSpec[];
  /** The model's max_batch_size, the largest batch the in-process baseline tries. */
  readonly maxBatch: number;
  /** A sequence model: requests go over streams, in sequences of this many (perf_analyzer's --sequence-length). */
  readonly sequenceLength?: number;
}

const EXAMPLES = fileURLToPath(new URL('../../models/', import.meta.url));

export const WORKLOADS: Readonly<Record<string, Workload>> = {
  simple: {
    name: 'simple',
    model: 'simple',
    repository: async () => EXAMPLES,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
    ],
    maxBatch: 8,
  },
  'ocr-cls': {
    name: 'ocr-cls',
    model: 'ocr_cls',
    repository: async (scratch, precision) => (await makeOcrRepository(scratch, precision, ['ocr_cls']), scratch),
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192] }],
    maxBatch: 32,
  },
  'ocr-rec': {
    name: 'ocr-rec',
    model: 'ocr_rec',
    repository: async (scratch, precision) => (await makeOcrRepository(scratch, precision, ['ocr_rec']), scratch),
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320] }],
    maxBatch: 8,
  },
  // The implicit-state accumulator (oldest strategy, string CORRID): each stream slot runs sequences of 20 requests.
  sequence: {
    name: 'sequence',
    model: 'simple_string_dyna_sequence',
    repository: async () => EXAMPLES,
    inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1] }],
    maxBatch: 8,
    sequenceLength: 20,
  },
  mlp: {
    name: 'mlp',
    model: 'mlp',
    // Always serves fp32, fp16 and dynamic int8 (scripts/make-precision-repository.ts).
    repository: async (scratch, precision) => (await makePrecisionRepository(scratch, precision?.int8Format), scratch),
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 768] }],
    maxBatch: 8,
  },
};

/**
 * Applies `--shape name:d0,d1,...` overrides and `--batch-size N` (the first dim of
 * every input) to a workload's inputs.
 */
export function resolveInputs(workload: Workload, shapes: ReadonlyMap<string, number[]>, batchSize: number | undefined): InputSpec[] {
  return workload.inputs.map((input) => {
    const shape = [...(shapes.get(input.name) ?? input.shape)];
    if (batchSize !== undefined) shape[0] = batchSize;
    return { ...input, shape };
  });
}

/** Raw little-endian bytes for one input: FP32 in [0, 1), INT32 in [-1000, 1000). */
export function randomTensor(input: InputSpec, random: () => number): Buffer {
  const count = input.shape.reduce((a, b) => a * b, 1);
  if (input.datatype === 'FP32') return Buffer.from(Float32Array.from({ length: count }, () => random()).buffer);
  return Buffer.from(Int32Array.from({ length: count }, () => Math.floor(random() * 2000) - 1000).buffer);
}
