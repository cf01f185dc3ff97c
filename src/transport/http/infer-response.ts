import type { InferResponse } from '../../core/infer-request.js';
import type { OutputRegions } from '../common/shm-tensors.js';
import type { OutputForms } from './infer-json.js';
import { bytesToJsonText } from './json-tensors.js';

/** An inference response as HTTP sends it: the JSON header and the binary tensors after it. */
export interface EncodedHttpResponse {
  readonly header: Buffer;
  /** Binary outputs in response order; empty when every output went as JSON. */
  readonly binary: readonly Uint8Array[];
}

/**
 * Core InferResponse -> Triton's JSON response: `id` (when not empty), `model_name`,
 * `model_version` and per output `name`, `datatype`, `shape` and either `data` (JSON, flat)
 * or `parameters.binary_data_size` with its bytes appended after the JSON, in output
 * order. Outputs written to shared memory carry neither. The JSON is written as text
 * directly: a tensor's values are joined once, never built as an array of JS values.
 */
export function encodeHttpInferResponse(response: InferResponse, forms: OutputForms, regions: OutputRegions): EncodedHttpResponse {
  const binary: Uint8Array[] = [];
  const outputs = response.outputs.map((output) => {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    if (regions.has(output.name)) return `${head}}`;
    if (forms.binary.get(output.name) ?? forms.binaryByDefault) {
      binary.push(output.data);
      return `${head},"parameters":{"binary_data_size":${output.data.byteLength}}}`;
    }
    return `${head},"data":${bytesToJsonText(output.datatype, output.data)}}`;
  });
  const id = response.id === '' ? '' : `"id":${JSON.stringify(response.id)},`;
  const text = `{${id}"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)},"outputs":[${outputs.join(',')}]}`;
  return { header: Buffer.from(text), binary };
}
