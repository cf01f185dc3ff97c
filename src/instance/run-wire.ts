import type { BufferTensor } from '../core/execution.js';
import type { DataType } from '../core/data-type.js';
import type { Variant } from '../core/precision.js';
import type { ProfileTicket } from '../core/profiling.js';
import type { ResultMessage, RunMessage } from './messages.js';

/**
 * The run and result messages as they cross between threads: flat arrays of primitives
 * and buffers instead of nested objects. postMessage's structured clone writes every
 * property name of every object as a string and the receiver rebuilds each object key by
 * key; an array of values skips both, and these two messages go once per execution each
 * way (on simple a round trip of the objects cost about 31 µs of CPU on both threads, of
 * the flat arrays about 21). Every other message stays an object.
 *
 * Run: runId, variant, decoupled, profile ticket or null, output name count, the names,
 * returned buffer count, the buffers, input count, then per input name, datatype, buffer,
 * byteOffset, byteLength, rank, dims.
 * Result: 'result' marker, runId, compute start, compute end, input buffer count, the
 * buffers, output count, then per output as per input above.
 */
export type RunWire = readonly unknown[] & { readonly __wire: 'run' };
export type ResultWire = readonly unknown[] & { readonly __wire: 'result' };

/** Marks a result (the worker sends nothing else as an array). */
const RESULT = 'result';

export function isRunWire(message: unknown): message is RunWire {
  return Array.isArray(message);
}

export function isResultWire(message: unknown): message is ResultWire {
  return Array.isArray(message) && message[0] === RESULT;
}

export function packRun(message: RunMessage): RunWire {
  const wire: unknown[] = [message.runId, message.variant, message.decoupled, message.profile ?? null, message.outputNames.length];
  for (const name of message.outputNames) wire.push(name);
  const returned = message.returned ?? [];
  wire.push(returned.length);
  for (const buffer of returned) wire.push(buffer);
  wire.push(message.inputs.length);
  for (const input of message.inputs) packTensor(wire, input);
  return wire as unknown as RunWire;
}

export function unpackRun(wire: RunWire): RunMessage {
  const runId = wire[0] as number;
  const variant = wire[1] as Variant;
  const decoupled = wire[2] as boolean;
  const profile = wire[3] as ProfileTicket | null;
  let at = 4;
  const outputCount = wire[at++] as number;
  const outputNames = wire.slice(at, at + outputCount) as string[];
  at += outputCount;
  const returnedCount = wire[at++] as number;
  const returned = wire.slice(at, at + returnedCount) as ArrayBuffer[];
  at += returnedCount;
  const inputs: BufferTensor[] = [];
  const inputCount = wire[at++] as number;
  for (let i = 0; i < inputCount; i++) at = unpackTensor(wire, at, inputs);
  return {
    type: 'run',
    runId,
    inputs,
    outputNames,
    variant,
    decoupled,
    ...(returnedCount > 0 ? { returned } : {}),
    ...(profile !== null ? { profile } : {}),
  };
}

export function packResult(message: ResultMessage): ResultWire {
  const wire: unknown[] = [RESULT, message.runId, message.compute.start, message.compute.end, message.inputBuffers.length];
  for (const buffer of message.inputBuffers) wire.push(buffer);
  wire.push(message.outputs.length);
  for (const output of message.outputs) packTensor(wire, output);
  return wire as unknown as ResultWire;
}

export function unpackResult(wire: ResultWire): ResultMessage {
  const runId = wire[1] as number;
  const compute = { start: wire[2] as number, end: wire[3] as number };
  let at = 4;
  const bufferCount = wire[at++] as number;
  const inputBuffers = wire.slice(at, at + bufferCount) as ArrayBuffer[];
  at += bufferCount;
  const outputs: BufferTensor[] = [];
  const outputCount = wire[at++] as number;
  for (let i = 0; i < outputCount; i++) at = unpackTensor(wire, at, outputs);
  return { type: 'result', runId, outputs, inputBuffers, compute };
}

function packTensor(wire: unknown[], tensor: BufferTensor): void {
  wire.push(tensor.name, tensor.datatype, tensor.buffer, tensor.byteOffset, tensor.byteLength, tensor.shape.length);
  for (const dim of tensor.shape) wire.push(dim);
}

/** Reads one tensor starting at `at` into `into`; returns the index after it. */
function unpackTensor(wire: readonly unknown[], at: number, into: BufferTensor[]): number {
  const rank = wire[at + 5] as number;
  into.push({
    name: wire[at] as string,
    datatype: wire[at + 1] as DataType,
    buffer: wire[at + 2] as ArrayBuffer,
    byteOffset: wire[at + 3] as number,
    byteLength: wire[at + 4] as number,
    shape: wire.slice(at + 6, at + 6 + rank) as number[],
  });
  return at + 6 + rank;
}
