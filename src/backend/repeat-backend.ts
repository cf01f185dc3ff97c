import { setTimeout as sleep } from 'node:timers/promises';
import { InferError } from '../core/errors.js';
import { nowMs, type BufferTensor } from '../core/execution.js';
import { formatShape } from '../core/tensor.js';
import type { BackendRun, DecoupledRun, ModelBackend, ResponseSender } from './model-backend.js';

/**
 * Triton's repeat example backend, a decoupled model: for inputs IN (INT32 [N]), DELAY
 * (UINT32 [N], milliseconds) and WAIT (UINT32 [1], milliseconds) it sends N responses,
 * response i carrying OUT = [IN[i]] and IDX = [i] after waiting DELAY[i] (the waits add
 * up), then the final flag alone. The execution itself returns after WAIT ms, so the
 * instance takes its next request while responses are still being sent, as Triton's does.
 * Requests are never batched (max_batch_size 0). Worker thread only.
 */
export class RepeatBackend implements ModelBackend {
  private readonly sending = new Set<Promise<void>>();

  run(): Promise<BackendRun> {
    return Promise.reject(new InferError('INTERNAL', 'the repeat backend is decoupled; its requests run through runDecoupled'));
  }

  async runDecoupled(inputs: readonly BufferTensor[], outputNames: readonly string[], responses: ResponseSender): Promise<DecoupledRun> {
    const wait = uint32s(input(inputs, 'WAIT'))[0] ?? 0;
    let responsesDone: Promise<void>;
    try {
      const values = input(inputs, 'IN');
      const delays = input(inputs, 'DELAY');
      if (formatShape(values.shape) !== formatShape(delays.shape)) {
        throw new InferError('INPUT_SHAPE', `expected IN and DELAY shape to match, got ${formatShape(values.shape)} and ${formatShape(delays.shape)}`);
      }
      // Copies: the input buffers go back to the main thread when the execution returns.
      responsesDone = this.track(this.send(Int32Array.from(int32s(values)), Uint32Array.from(uint32s(delays)), outputNames, responses));
    } catch (err) {
      responses.fail(0, InferError.from(err));
      responsesDone = Promise.resolve();
    }
    await sleep(wait);
    return { computeEnd: nowMs(), responsesDone };
  }

  /** Waits for responses still being sent, so none is cut off when the instance stops. */
  async release(): Promise<void> {
    await Promise.all(this.sending);
  }

  private async send(values: Int32Array, delays: Uint32Array, outputNames: readonly string[], responses: ResponseSender): Promise<void> {
    for (let i = 0; i < values.length; i++) {
      await sleep(delays[i]!);
      const outputs: BufferTensor[] = [];
      for (const name of outputNames) {
        if (name === 'OUT') outputs.push(scalar(name, 'INT32', Int32Array.of(values[i]!)));
        else if (name === 'IDX') outputs.push(scalar(name, 'UINT32', Uint32Array.of(i)));
      }
      responses.send(0, outputs, false);
    }
    // As Triton's repeat backend does: the final flag travels alone, after the last response.
    responses.send(0, undefined, true);
  }

  private track(sending: Promise<void>): Promise<void> {
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending));
    return sending;
  }
}

function input(inputs: readonly BufferTensor[], name: string): BufferTensor {
  const found = inputs.find((t) => t.name === name);
  if (found === undefined) throw new InferError('INPUT_MISSING', `the repeat backend needs input '${name}'`);
  return found;
}

function int32s(tensor: BufferTensor): Int32Array {
  return new Int32Array(tensor.buffer.slice(tensor.byteOffset, tensor.byteOffset + tensor.byteLength));
}

function uint32s(tensor: BufferTensor): Uint32Array {
  return new Uint32Array(tensor.buffer.slice(tensor.byteOffset, tensor.byteOffset + tensor.byteLength));
}

function scalar(name: string, datatype: 'INT32' | 'UINT32', data: Int32Array | Uint32Array): BufferTensor {
  return { name, datatype, shape: [1], buffer: data.buffer as ArrayBuffer, byteOffset: 0, byteLength: data.byteLength };
}
