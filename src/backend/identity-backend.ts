import type { BufferTensor } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import { nowMs } from '../core/execution.js';
import type { BackendRun, ModelBackend } from './model-backend.js';

/**
 * Triton's identity backend: each output is a copy of its paired input, byte for byte
 * (BYTES elements with NUL bytes included). Copies, because the inputs' buffers go back to
 * the staging pool while the outputs travel on to the client.
 */
export class IdentityBackend implements ModelBackend {
  constructor(private readonly outputToInput: Readonly<Record<string, string>>) {}

  async run(inputs: readonly BufferTensor[], outputNames: readonly string[]): Promise<BackendRun> {
    const outputs = outputNames.map((name) => {
      const input = inputs.find((t) => t.name === this.outputToInput[name]);
      if (input === undefined) throw new InferError('BACKEND_ERROR', `identity backend has no input for output '${name}'`);
      const buffer = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
      return { name, datatype: input.datatype, shape: input.shape, buffer, byteOffset: 0, byteLength: buffer.byteLength };
    });
    return { outputs, computeEnd: nowMs() };
  }

  async release(): Promise<void> {}
}
