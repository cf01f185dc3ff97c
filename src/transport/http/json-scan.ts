import { limitError, MAX_TENSOR_RANK, type RequestLimits } from '../../core/request-limits.js';

/** Room for a request's structure besides tensor `data`, per input it may have: name, datatype, a full shape, parameters. */
const STRUCTURE_VALUES_PER_INPUT = MAX_TENSOR_RANK + 16;
/** Deepest nesting a request needs: a 64-dim nested `data` under {"inputs":[{"data": ...}]}, with room to spare. */
export const MAX_JSON_DEPTH = MAX_TENSOR_RANK + 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The most JSON values one request body may hold: --max-typed-elements for tensor `data`
 * (the bound gRPC puts on an input's typed contents), plus room for the structure of
 * --max-request-inputs inputs.
 */
export function jsonValueBudget(limits: RequestLimits): number {
  return limits.maxTypedElements + limits.maxInputs * STRUCTURE_VALUES_PER_INPUT;
}

/**
 * Checks a request's JSON against the request limits before JSON.parse, which would
 * otherwise allocate the whole body as JS values first: each costs 8 to 60 bytes for 2 or
 * 3 bytes of JSON (`[]`, `{}` or `0` and a comma), so 60 MiB of `[[],[],...]` took 1.6 GB
 * and 12 s of the main thread before any limit applied. One pass over the bytes, in place:
 * outside strings, every comma, `[` and `{` counts (an upper bound on the values the
 * parse creates: each value after the first in a container follows a comma, and each
 * container is one), and nesting deeper than MAX_JSON_DEPTH is refused (the decoder
 * walks nested `data` recursively). Throws REQUEST_LIMIT naming --max-typed-elements;
 * whether the bytes are valid JSON is left to JSON.parse.
 */
export function scanJsonValues(bytes: Uint8Array, limits: RequestLimits): void {
  const budget = jsonValueBudget(limits);
  let values = 0;
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      // Skip the string: its contents count as one value, whatever they hold.
      for (i++; i < n; i++) {
        const s = bytes[i]!;
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === COMMA) {
      values++;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      values++;
      if (++depth > MAX_JSON_DEPTH) {
        throw limitError(`the request JSON nests deeper than ${MAX_JSON_DEPTH} levels; a tensor has at most ${MAX_TENSOR_RANK} dims`, 'maxTensorElements');
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else continue;
    if (values > budget) {
      throw limitError(
        `the request JSON holds more than ${budget} values (${limits.maxTypedElements} for tensor 'data', ${budget - limits.maxTypedElements} for the rest), ` +
          `the most this server parses; send large tensors as binary data ('binary_data_size')`,
        'maxTypedElements',
      );
    }
  }
}
