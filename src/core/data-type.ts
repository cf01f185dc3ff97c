/**
 * Tensor data types as the KServe v2 protocol spells them ("INT32", "BYTES", ...).
 *
 * These strings are what travel in ModelInferRequest/Response `datatype` fields and in
 * ModelMetadata. The model configuration uses Triton's `TYPE_*` enum instead; the
 * repository layer maps between the two.
 */
export const DATA_TYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;

export type DataType = (typeof DATA_TYPES)[number];

const ELEMENT_BYTES: Readonly<Record<DataType, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
  BF16: 2,
};

const KNOWN = new Set<string>(DATA_TYPES);

/** True when `value` is one of the protocol's datatype strings. */
export function isDataType(value: string): value is DataType {
  return KNOWN.has(value);
}

/**
 * Bytes per element, or 0 for BYTES, whose elements are variable-length
 * (a 4-byte little-endian length followed by that many bytes).
 */
export function elementByteSize(datatype: DataType): number {
  return ELEMENT_BYTES[datatype];
}
