/**
 * ModelInfer messages for the fuzz test, from a seeded generator: structured ones (a valid
 * request for `simple` or `simple_identity` with one to three mutations of its fields) and
 * byte-level ones (a valid encoding with bytes flipped, cut, repeated or inserted, or
 * garbage). The same seed gives the same messages on every machine.
 */
import { ModelInferRequest } from '../../src/generated/grpc_service.js';

/** mulberry32: a small, fast PRNG with a 32-bit state, good enough to pick mutations. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Request = Parameters<typeof ModelInferRequest.fromPartial>[0] & {
  inputs: { name: string; datatype: string; shape: bigint[]; parameters?: Record<string, unknown>; contents?: Record<string, unknown> }[];
  rawInputContents: Uint8Array[];
  outputs: { name: string }[];
  parameters: Record<string, unknown>;
};

const int32 = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
const bytesElements = (elements: Uint8Array[]) => {
  const out: number[] = [];
  for (const e of elements) out.push(...new Uint8Array(Uint32Array.of(e.length).buffer), ...e);
  return Uint8Array.from(out);
};

/** Strings a client might send where a name goes. */
const NAMES = ['', 'INPUT0', 'INPUT1', 'OUTPUT0', 'simple', 'x'.repeat(200), '😀'.repeat(40), 'a\u0000b', '../etc', 'é'];
const MODELS = ['simple', 'simple_identity', 'nope', '', 'repeat_int32', 'simple_sequence', 'simple_string', 'm'.repeat(2000)];
const DATATYPES = ['INT32', 'FP32', 'BYTES', 'INT64', 'BOOL', 'FP16', 'BF16', 'UINT8', 'int32', '', 'STRING'];
const PARAMETER_KEYS = ['priority', 'timeout', 'precision', 'triton_x', 'sequence_id', 'shared_memory_region', 'shared_memory_byte_size', 'binary_data_output', 'k'];

export class FuzzMessages {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = prng(seed);
  }

  /** The next message: two in three structured, one in three byte-level. */
  next(): Uint8Array {
    return this.random() < 0.67 ? this.structured() : this.bytes();
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  private valid(): Request {
    if (this.random() < 0.7) {
      return {
        modelName: 'simple',
        id: this.random() < 0.5 ? '' : `id-${this.int(1000)}`,
        inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1n, 16n] })),
        rawInputContents: [int32(Array.from({ length: 16 }, () => this.int(100))), int32(Array.from({ length: 16 }, () => this.int(100)))],
        outputs: [],
        parameters: {},
      };
    }
    const count = 1 + this.int(4);
    const elements = Array.from({ length: count }, () => Uint8Array.from({ length: this.int(8) }, () => this.int(256)));
    return {
      modelName: 'simple_identity',
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1n, BigInt(count)] }],
      rawInputContents: [bytesElements(elements)],
      outputs: [],
      parameters: {},
    };
  }

  private parameter(): Record<string, unknown> {
    const choices = [
      { $case: 'boolParam', value: this.random() < 0.5 },
      { $case: 'int64Param', value: BigInt(this.int(2000) - 1000) * (this.random() < 0.1 ? 1n << 50n : 1n) },
      { $case: 'uint64Param', value: BigInt(this.int(10)) },
      { $case: 'doubleParam', value: this.random() * 1e6 },
      { $case: 'stringParam', value: this.pick(['fp32', 'fp16', 'int8', 'r', '', 'x'.repeat(300)]) },
    ];
    return this.random() < 0.1 ? {} : { parameterChoice: this.pick(choices) };
  }

  private shape(): bigint[] {
    const rank = this.random() < 0.1 ? this.int(80) : this.int(4);
    return Array.from({ length: rank }, () => this.pick([0n, 1n, 2n, 16n, -1n, -5n, 17n, 1n << 40n, (1n << 62n) + 1n, BigInt(this.int(100))]));
  }

  private mutate(request: Request): void {
    const input = request.inputs[this.int(request.inputs.length)];
    switch (this.int(14)) {
      case 0:
        request.modelName = this.pick(MODELS);
        break;
      case 1:
        request.modelVersion = this.pick(['', '1', '2', '-1', 'abc', '99999999999999999999', '0', ' 1']);
        break;
      case 2:
        request.id = this.pick(['', 'x'.repeat(this.int(3000)), '\ud800', '😀'.repeat(100), 'id']);
        break;
      case 3:
        if (input !== undefined) input.datatype = this.pick(DATATYPES);
        break;
      case 4:
        if (input !== undefined) input.shape = this.shape();
        break;
      case 5:
        if (input !== undefined) input.name = this.pick(NAMES);
        break;
      case 6:
        request.inputs.splice(this.int(request.inputs.length + 1), 0, { name: this.pick(NAMES), datatype: this.pick(DATATYPES), shape: this.shape() });
        break;
      case 7:
        request.inputs.splice(this.int(request.inputs.length), 1);
        break;
      case 8: {
        const many = this.pick([3, 50, 1025, 3000]);
        for (let i = 0; i < many; i++) request.inputs.push({ name: `IN${i}`, datatype: 'INT32', shape: [1n] });
        break;
      }
      case 9: {
        const which = this.int(3);
        if (which === 0) request.rawInputContents.pop();
        else if (which === 1) request.rawInputContents.push(Uint8Array.from({ length: this.int(100) }, () => this.int(256)));
        else if (request.rawInputContents.length > 0) {
          const k = this.int(request.rawInputContents.length);
          request.rawInputContents[k] = request.rawInputContents[k]!.subarray(0, this.int(request.rawInputContents[k]!.length + 1));
        }
        break;
      }
      case 10:
        if (input !== undefined) {
          const field = this.pick(['boolContents', 'intContents', 'int64Contents', 'uintContents', 'uint64Contents', 'fp32Contents', 'fp64Contents', 'bytesContents']);
          const count = this.pick([0, 1, 16, 17, 5000]);
          const values: Record<string, unknown> = {
            boolContents: true,
            intContents: -3,
            int64Contents: -1n << 63n,
            uintContents: 4294967295,
            uint64Contents: (1n << 64n) - 1n,
            fp32Contents: 1.5,
            fp64Contents: -0,
            bytesContents: new Uint8Array(this.int(3)),
          };
          const value = values[field];
          input.contents = { [field]: new Array(count).fill(value) };
          if (this.random() < 0.5) request.rawInputContents = [];
        }
        break;
      case 11:
        request.parameters[this.pick(PARAMETER_KEYS)] = this.parameter();
        break;
      case 12:
        if (input !== undefined) input.parameters = { [this.pick(PARAMETER_KEYS)]: this.parameter(), [this.pick(PARAMETER_KEYS)]: this.parameter() };
        break;
      case 13:
        request.outputs = Array.from({ length: this.pick([1, 2, 3, 1100]) }, () => ({ name: this.pick(['OUTPUT0', 'OUTPUT1', 'OUTPUT0', 'nope', '']) }));
        break;
    }
  }

  private structured(): Uint8Array {
    const request = this.valid();
    const mutations = 1 + this.int(3);
    for (let i = 0; i < mutations; i++) this.mutate(request);
    return ModelInferRequest.encode(ModelInferRequest.fromPartial(request as Parameters<typeof ModelInferRequest.fromPartial>[0])).finish();
  }

  private bytes(): Uint8Array {
    if (this.random() < 0.05) return Uint8Array.from({ length: this.int(4096) }, () => this.int(256));
    const bytes = Array.from(this.structured());
    const edits = 1 + this.int(4);
    for (let i = 0; i < edits && bytes.length > 0; i++) {
      const at = this.int(bytes.length);
      switch (this.int(5)) {
        case 0:
          bytes[at] = this.int(256);
          break;
        case 1:
          bytes[at] = bytes[at]! ^ (1 << this.int(8));
          break;
        case 2:
          bytes.length = at;
          break;
        case 3:
          bytes.splice(at, 0, ...Array.from({ length: 1 + this.int(16) }, () => this.int(256)));
          break;
        case 4:
          bytes.splice(at, 0, ...bytes.slice(at, at + this.int(64)));
          break;
      }
    }
    return Uint8Array.from(bytes);
  }
}
