import { type InferParameter, ModelInferResponse, type ModelInferResponse_InferOutputTensor, ModelStreamInferResponse } from '../../generated/grpc_service.js';

/** Scratch kept between responses up to this size; a larger response gets a buffer of its own. */
const KEEP_SCRATCH_BYTES = 8 * 1024 * 1024;

/**
 * Encodes ModelInferResponse and ModelStreamInferResponse messages into their wire bytes,
 * byte for byte as the generated encoders do, with the tensor bytes copied once. The
 * generated BinaryWriter grows its buffer by doubling (copying as it goes), then slices a
 * copy out of it: for ocr_rec's 1 MB output that was about 4 MB allocated and 3 MB copied
 * per response, the allocations feeding the main thread's garbage collector. Here the
 * size is measured first and the bytes written once into a scratch buffer that is reused.
 *
 * The bytes returned are valid only until the next call: grpc-js copies a serializer's
 * result into its frame at once, before any other response is serialized, so use it only
 * as a gRPC `responseSerialize`. Main thread only; one writer per server.
 */
export class ResponseWriter {
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;

  /** ModelInferResponse wire bytes (valid until the next call). */
  inferResponse(message: ModelInferResponse): Buffer {
    if (hasTypedContents(message)) return generated(ModelInferResponse.encode(message).finish());
    const size = inferResponseSize(message);
    this.start(size);
    this.writeInferResponse(message);
    return this.scratch.subarray(0, size);
  }

  /** ModelStreamInferResponse wire bytes (valid until the next call). */
  streamResponse(message: ModelStreamInferResponse): Buffer {
    if (message.inferResponse !== undefined && hasTypedContents(message.inferResponse)) return generated(ModelStreamInferResponse.encode(message).finish());
    const inner = message.inferResponse === undefined ? 0 : inferResponseSize(message.inferResponse);
    const size = stringField(message.errorMessage) + (message.inferResponse === undefined ? 0 : 1 + varintSize(inner) + inner);
    this.start(size);
    this.string(1, message.errorMessage);
    if (message.inferResponse !== undefined) {
      this.tag(2, LEN);
      this.varint(inner);
      this.writeInferResponse(message.inferResponse);
    }
    return this.scratch.subarray(0, size);
  }

  private start(size: number): void {
    if (size > this.scratch.length) this.scratch = Buffer.allocUnsafe(size);
    else if (this.scratch.length > KEEP_SCRATCH_BYTES && size <= KEEP_SCRATCH_BYTES) this.scratch = Buffer.allocUnsafe(KEEP_SCRATCH_BYTES);
    this.pos = 0;
  }

  private writeInferResponse(message: ModelInferResponse): void {
    this.string(1, message.modelName);
    this.string(2, message.modelVersion);
    this.string(3, message.id);
    this.parameters(4, message.parameters);
    for (const output of message.outputs) {
      this.tag(5, LEN);
      this.varint(outputSize(output));
      this.string(1, output.name);
      this.string(2, output.datatype);
      if (output.shape.length > 0) {
        this.tag(3, LEN);
        this.varint(output.shape.reduce((sum, d) => sum + int64Size(d), 0));
        for (const d of output.shape) this.int64(d);
      }
      this.parameters(4, output.parameters);
    }
    for (const raw of message.rawOutputContents) {
      this.tag(6, LEN);
      this.varint(raw.byteLength);
      this.scratch.set(raw, this.pos);
      this.pos += raw.byteLength;
    }
  }

  private parameters(field: number, parameters: { [key: string]: InferParameter }): void {
    for (const key in parameters) {
      const value = parameters[key]!;
      this.tag(field, LEN);
      this.varint(entrySize(key, value));
      this.string(1, key);
      this.tag(2, LEN);
      this.varint(parameterSize(value));
      const choice = value.parameterChoice;
      switch (choice?.$case) {
        case 'boolParam':
          this.tag(1, VARINT);
          this.varint(choice.value ? 1 : 0);
          break;
        case 'int64Param':
          this.tag(2, VARINT);
          this.int64(choice.value);
          break;
        case 'stringParam':
          this.string(3, choice.value, true);
          break;
        case 'doubleParam':
          this.tag(4, I64);
          this.scratch.writeDoubleLE(choice.value, this.pos);
          this.pos += 8;
          break;
        case 'uint64Param':
          this.tag(5, VARINT);
          this.int64(choice.value);
          break;
      }
    }
  }

  /** A string field, left out when empty (proto3) unless `always`. */
  private string(field: number, value: string, always = false): void {
    if (value === '' && !always) return;
    this.tag(field, LEN);
    const bytes = Buffer.byteLength(value);
    this.varint(bytes);
    this.pos += this.scratch.write(value, this.pos, 'utf8');
  }

  private tag(field: number, wireType: number): void {
    this.scratch[this.pos++] = (field << 3) | wireType;
  }

  private varint(value: number): void {
    while (value > 0x7f) {
      this.scratch[this.pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.scratch[this.pos++] = value;
  }

  /** An int64 or uint64 as protobuf writes it: negative values as their 64-bit two's complement (10 bytes). */
  private int64(value: bigint): void {
    // Shapes are small and non-negative: no BigInt arithmetic (each op allocates) for them.
    if (value >= 0n && value <= MAX_SAFE) {
      this.varint(Number(value));
      return;
    }
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.pos++] = Number(v);
  }
}

/** Outputs in typed `contents` (Nereid never sends them) go through the generated encoder. */
function hasTypedContents(message: ModelInferResponse): boolean {
  return message.outputs.some((o) => o.contents !== undefined);
}

function generated(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function int64Size(value: bigint): number {
  if (value >= 0n && value <= MAX_SAFE) return varintSize(Number(value));
  let v = BigInt.asUintN(64, value);
  let size = 1;
  while (v > 0x7fn) {
    v >>= 7n;
    size++;
  }
  return size;
}

/** A length-delimited field of `length` bytes, field number below 16 (one-byte tag). */
function lenField(length: number): number {
  return 1 + varintSize(length) + length;
}

function stringField(value: string, always = false): number {
  return value === '' && !always ? 0 : lenField(Buffer.byteLength(value));
}

function parameterSize(value: InferParameter): number {
  const choice = value.parameterChoice;
  switch (choice?.$case) {
    case 'boolParam':
      return 2;
    case 'int64Param':
    case 'uint64Param':
      return 1 + int64Size(choice.value);
    case 'stringParam':
      return stringField(choice.value, true);
    case 'doubleParam':
      return 9;
    default:
      return 0;
  }
}

function entrySize(key: string, value: InferParameter): number {
  return stringField(key) + lenField(parameterSize(value));
}

function parametersSize(parameters: { [key: string]: InferParameter }): number {
  let size = 0;
  for (const key in parameters) size += lenField(entrySize(key, parameters[key]!));
  return size;
}

function outputSize(output: ModelInferResponse_InferOutputTensor): number {
  let shape = 0;
  for (const d of output.shape) shape += int64Size(d);
  return stringField(output.name) + stringField(output.datatype) + (shape > 0 ? lenField(shape) : 0) + parametersSize(output.parameters);
}

function inferResponseSize(message: ModelInferResponse): number {
  let size = stringField(message.modelName) + stringField(message.modelVersion) + stringField(message.id) + parametersSize(message.parameters);
  for (const output of message.outputs) size += lenField(outputSize(output));
  for (const raw of message.rawOutputContents) size += lenField(raw.byteLength);
  return size;
}
