import type { BufferTensor } from '../core/execution.js';
import type { ModelInfo, TensorSpec } from '../core/model-info.js';
import { elementCount, sliceBytesElements, type Tensor } from '../core/tensor.js';

/**
 * The part of a batched output that belongs to rows [start, start + count) of an
 * execution of `rows` rows, as a view (no copy), with the shape a client sees: the batch
 * dim replaced by `count`, and the config dims instead of the model's when the config
 * reshapes the output. Without batching the whole output is the one request's.
 */
export function sliceOutput(model: ModelInfo, output: BufferTensor, start: number, count: number, rows: number): Tensor {
  const all = new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
  const spec = model.outputs.find((o) => o.name === output.name);
  const batching = model.maxBatchSize > 0;
  if (!batching || rows === 0) {
    return { name: output.name, datatype: output.datatype, shape: responseShape(output.shape, spec, batching, count), data: all };
  }
  let data: Uint8Array;
  if (output.datatype === 'BYTES') {
    const perItem = elementCount(output.shape) / rows;
    data = sliceBytesElements(all, start * perItem, count * perItem);
  } else {
    const perItem = output.byteLength / rows;
    data = all.subarray(start * perItem, (start + count) * perItem);
  }
  return { name: output.name, datatype: output.datatype, shape: responseShape(output.shape, spec, batching, count), data };
}

/**
 * The shape a client sees: the batch dim replaced by the request's own count, and the
 * config dims instead of the model's when the config reshapes the output.
 */
function responseShape(modelShape: readonly number[], spec: TensorSpec | undefined, batching: boolean, count: number): number[] {
  const itemShape = spec?.reshape !== undefined && !spec.dims.includes(-1) ? spec.dims : batching ? modelShape.slice(1) : modelShape;
  return batching ? [count, ...itemShape] : [...itemShape];
}
