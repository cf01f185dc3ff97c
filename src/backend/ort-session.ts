import * as ort from 'onnxruntime-node';
import { nowMs, type BufferTensor, type SessionSettings } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import { joinBytesElements, splitBytesElements } from '../core/tensor.js';
import type { BackendRun, ModelBackend } from './model-backend.js';
import { fromOrtType, toOrtType, typedView } from './ort-types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * One ONNX Runtime InferenceSession and the conversions around it.
 *
 * Thread: only ever used on a model instance's worker thread, because `run` blocks the
 * thread that calls it. Input buffers are borrowed for the duration of `run`; outputs come
 * back in fresh ArrayBuffers owned by the caller.
 */
export class OrtSession implements ModelBackend {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** WebGPU keeps outputs on the GPU; they are downloaded explicitly after the run. */
    private readonly outputsOnDevice: boolean,
  ) {}

  /**
   * Loads `modelPath` with the execution provider and threading in `settings`. With
   * `profileFilePrefix` the session records ONNX Runtime's profile from its creation on
   * (the profiler can only be switched on when a session is created) until endProfiling.
   */
  static async create(modelPath: string, settings: SessionSettings, profileFilePrefix?: string): Promise<OrtSession> {
    const outputsOnDevice = settings.executionProvider === 'webgpu';
    const options: ort.InferenceSession.SessionOptions = {
      ...(profileFilePrefix !== undefined ? { enableProfiling: true, profileFilePrefix } : {}),
      executionProviders: [executionProvider(settings)],
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: settings.interOpThreads,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: settings.allowSpinning ? '1' : '0' } } },
      ...(outputsOnDevice ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    };
    return new OrtSession(await ort.InferenceSession.create(modelPath, options), outputsOnDevice);
  }

  /**
   * Runs the model synchronously (ORT blocks this thread) and converts the outputs. On
   * WebGPU the outputs stay on the GPU until downloaded here, after `computeEnd`, so the
   * download is timed as part of d2h rather than compute.
   */
  async run(inputs: readonly BufferTensor[], outputNames: readonly string[]): Promise<BackendRun> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) feeds[input.name] = toOrtTensor(input);
    const results = await this.session.run(feeds, outputNames);
    const computeEnd = nowMs();
    const outputs: BufferTensor[] = [];
    for (const name of outputNames) {
      const tensor = results[name];
      if (tensor === undefined) throw new InferError('BACKEND_ERROR', `onnx runtime returned no output '${name}'`);
      if (this.outputsOnDevice && tensor.location === 'gpu-buffer') {
        // getData(true) downloads to host memory and releases the GPU buffer.
        const data = await tensor.getData(true);
        outputs.push(fromOrtTensor(name, new ort.Tensor(tensor.type as 'float32', data as Float32Array, tensor.dims)));
      } else {
        outputs.push(fromOrtTensor(name, tensor));
      }
    }
    return { outputs, computeEnd };
  }

  /**
   * Stops a profiling session's profiler and has ONNX Runtime write its file,
   * `<profileFilePrefix>_<date and time>.json` (onnxruntime-node does not return the name).
   */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function executionProvider(settings: SessionSettings): ort.InferenceSession.ExecutionProviderConfig {
  if (settings.executionProvider === 'cpu') return 'cpu';
  return { name: settings.executionProvider, deviceId: settings.deviceId } as ort.InferenceSession.ExecutionProviderConfig;
}

function toOrtTensor(input: BufferTensor): ort.Tensor {
  const type = toOrtType(input.datatype);
  if (type === undefined || type === 'uint4' || type === 'int4') {
    throw new InferError('INPUT_DATATYPE', `datatype ${input.datatype} is not supported by ONNX Runtime`);
  }
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (type === 'string') return new ort.Tensor('string', decodeStrings(input.name, bytes), input.shape);
  return new ort.Tensor(type, typedView(type, input.buffer, input.byteOffset, input.byteLength) as Uint8Array, input.shape);
}

function decodeStrings(name: string, bytes: Uint8Array): string[] {
  return splitBytesElements(bytes).map((element, index) => {
    // onnxruntime-node copies input strings as C strings, cutting them at the first NUL.
    // Refuse rather than compute on silently truncated data.
    if (element.includes(0)) {
      throw new InferError(
        'INPUT_CONTENTS',
        `element ${index} of BYTES input '${name}' contains a NUL byte, which ONNX Runtime string tensors cannot carry ` +
          '(onnxruntime-node cuts input strings at the first NUL)',
      );
    }
    try {
      return utf8.decode(element);
    } catch {
      throw new InferError(
        'INPUT_CONTENTS',
        `element ${index} of BYTES input '${name}' is not valid UTF-8; ONNX Runtime string tensors hold UTF-8 text`,
      );
    }
  });
}

function fromOrtTensor(name: string, tensor: ort.Tensor): BufferTensor {
  const datatype = fromOrtType(tensor.type);
  if (datatype === undefined) throw new InferError('BACKEND_ERROR', `output '${name}' has unsupported type ${tensor.type}`);
  const shape = tensor.dims.slice();
  if (datatype === 'BYTES') {
    const bytes = joinBytesElements((tensor.data as string[]).map((s) => encoder.encode(s)));
    return { name, datatype, shape, buffer: bytes.buffer as ArrayBuffer, byteOffset: 0, byteLength: bytes.byteLength };
  }
  const data = tensor.data as Exclude<ort.Tensor.DataType, string[]>;
  return { name, datatype, shape, buffer: data.buffer as ArrayBuffer, byteOffset: data.byteOffset, byteLength: data.byteLength };
}
