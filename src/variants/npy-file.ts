/**
 * NumPy's .npy format (version 1.0-3.0) for float32 arrays: what `numpy.save` writes,
 * so calibration samples can be prepared in Python. Little-endian, C order only.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A float32 array read from or written to .npy. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Parses a .npy file holding a little-endian float32 (or float64, converted) array in C order. */
export function readNpy(bytes: Uint8Array, what = 'array'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${what} is not a .npy file`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) throw new Error(`${what}: unreadable .npy header '${header.trim()}'`);
  if (fortran === 'True') throw new Error(`${what}: Fortran-order arrays are not supported; save a C-order array`);
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (itemSize === 0) throw new Error(`${what}: dtype '${descr}' is not supported; save float32 ('<f4') arrays`);
  if (bytes.length - offset !== count * itemSize) {
    throw new Error(`${what}: shape (${dims.join(', ')}) needs ${count * itemSize} bytes of data, the file has ${bytes.length - offset}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = itemSize === 4 ? view.getFloat32(offset + 4 * i, true) : view.getFloat64(offset + 8 * i, true);
  return { data, dims };
}

/** Encodes a float32 array as a version 1.0 .npy file. */
export function writeNpy(array: NpyArray): Uint8Array {
  const shape = array.dims.length === 1 ? `(${array.dims[0]},)` : `(${array.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // The header, with its 10-byte preamble and closing newline, fills a multiple of 64 bytes.
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < array.data.length; i++) view.setFloat32(4 * i, array.data[i]!, true);
  return out;
}
