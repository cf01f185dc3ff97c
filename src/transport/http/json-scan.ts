import { limitError, MAX_TENSOR_RANK, type RequestLimits } from '../../core/request-limits.js';

/** Room for a request's structure besides tensor `data`, per input it may have: name, datatype, a full shape, parameters. */
const STRUCTURE_VALUES_PER_INPUT = MAX_TENSOR_RANK + 16;
/** Deepest nesting a request needs: a 64-dim nested `data` under {"inputs":[{"data": ...}]}, with room to spare. */
export const MAX_JSON_DEPTH = MAX_TENSOR_RANK + 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What each byte is to the scan, outside strings. */
const OTHER = 0;
const STRING = 1;
const COMMA = 2;
const OPEN = 3;
const CLOSE = 4;
const KIND = new Uint8Array(256);
KIND[QUOTE] = STRING;
KIND[0x2c] = COMMA;
KIND[0x5b] = OPEN;
KIND[0x7b] = OPEN;
KIND[0x5d] = CLOSE;
KIND[0x7d] = CLOSE;

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
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    // One table load per byte: most bytes (digits, letters, spaces) are nothing to the scan.
    const kind = KIND[bytes[i]!]!;
    if (kind === OTHER) continue;
    if (kind === STRING) {
      // Skip the string (one value, whatever it holds) to its closing quote: one not escaped
      // by an odd run of backslashes before it. indexOf is native, and strings can be long.
      for (;;) {
        i = buffer.indexOf(QUOTE, i + 1);
        if (i < 0) return; // unterminated: JSON.parse says so
        let backslashes = 0;
        while (bytes[i - 1 - backslashes] === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      continue;
    }
    if (kind === CLOSE) {
      depth--;
      continue;
    }
    values++;
    if (kind === OPEN && ++depth > MAX_JSON_DEPTH) {
      throw limitError(`the request JSON nests deeper than ${MAX_JSON_DEPTH} levels; a tensor has at most ${MAX_TENSOR_RANK} dims`, 'maxTensorElements');
    }
    if (values > budget) {
      throw limitError(
        `the request JSON holds more than ${budget} values (${limits.maxTypedElements} for tensor 'data', ${budget - limits.maxTypedElements} for the rest), ` +
          `the most this server parses; send large tensors as binary data ('binary_data_size')`,
        'maxTypedElements',
      );
    }
  }
}
