import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import { limitError, MAX_TENSOR_RANK, type RequestLimits } from '../../core/request-limits.js';

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const FIXED32 = 5;

/**
 * Checks an encoded inference.ModelInferRequest against the request limits before it is
 * decoded, reading the protobuf wire format in place: it copies nothing, and keeps only
 * the bounds of each input and raw entry (as many as --max-request-inputs allows), so its
 * cost is bounded by the message's length whatever the message says. Counts inputs,
 * outputs, raw contents and parameters, the dims and element count of each input and of
 * its typed contents, the length of each BYTES element (typed, or raw: raw entry i belongs
 * to the i-th input without contents or shared memory, as the codec pairs them) and of
 * every name, and throws REQUEST_LIMIT for the first that is past its limit. A message
 * that is not valid wire format throws REQUEST_MALFORMED saying where. Fields it does not
 * know are skipped, as the decoder skips them. Used for ModelInfer and ModelStreamInfer.
 */
export function scanInferRequest(bytes: Uint8Array, limits: RequestLimits): void {
  const top = new WireCursor(bytes, 0, bytes.length);
  let inputs = 0;
  let outputs = 0;
  let raw = 0;
  let parameters = 0;
  /** For each input that takes a raw entry, in order: the label of a BYTES one, else undefined. */
  const rawTakers: ((() => string) | undefined)[] = [];
  /** Start and end of each raw entry. */
  const rawBounds: number[] = [];
  while (top.next()) {
    const { field, wire } = top;
    if (wire !== LENGTH || field < 1 || field > 7) {
      top.skip();
      continue;
    }
    top.lengthDelimited();
    const { start, end } = top;
    switch (field) {
      case 1:
        checkName(end - start, 'the model name', limits);
        break;
      case 2:
        checkName(end - start, 'the model version', limits);
        break;
      case 3:
        checkName(end - start, 'the request id', limits);
        break;
      case 4:
        checkCount(++parameters, 'the request has', 'parameters', limits);
        scanParameter(bytes, start, end, 'a request parameter', limits);
        break;
      case 5:
        checkCount(++inputs, 'the request has', 'inputs', limits);
        {
          const input = scanInput(bytes, start, end, inputs - 1, limits);
          if (input.takesRaw) rawTakers.push(input.bytesLabel);
        }
        break;
      case 6:
        checkCount(++outputs, 'the request asks for', 'outputs', limits);
        scanOutput(bytes, start, end, outputs - 1, limits);
        break;
      case 7:
        checkCount(++raw, 'the request has', 'raw_input_contents entries', limits);
        rawBounds.push(start, end);
        break;
    }
  }
  for (let k = 0; k < rawTakers.length && 2 * k < rawBounds.length; k++) {
    const label = rawTakers[k];
    if (label !== undefined) checkRawBytesElements(bytes, rawBounds[2 * k]!, rawBounds[2 * k + 1]!, label, limits);
  }
}

/**
 * The 4-byte little-endian length of each element of a raw BYTES entry, in place. A
 * malformed entry (a prefix cut short or running past the end) is left to validation,
 * which reports it with Triton's texts.
 */
function checkRawBytesElements(bytes: Uint8Array, start: number, end: number, label: () => string, limits: RequestLimits): void {
  for (let offset = start, index = 0; offset + 4 <= end; index++) {
    const length = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
    if (length > limits.maxBytesElementBytes) {
      throw limitError(`BYTES element ${index} of ${label()} is ${length} bytes long; this server takes at most ${limits.maxBytesElementBytes}`, 'maxBytesElementBytes');
    }
    offset += 4 + length;
  }
}

/** Whether bytes[start, end) spell `text` (ASCII). */
function spells(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * InferInputTensor: name, datatype, shape, parameters, contents. Says whether the input
 * takes a raw entry (no contents, no shared memory region) and, for a BYTES one, how to
 * name it.
 */
function scanInput(bytes: Uint8Array, start: number, end: number, index: number, limits: RequestLimits): { takesRaw: boolean; bytesLabel: (() => string) | undefined } {
  const cursor = new WireCursor(bytes, start, end);
  let name: [number, number] | undefined;
  let isBytes = false;
  let sharedMemory = false;
  let dims = 0;
  let elements = 1;
  let negative = false;
  let parameters = 0;
  let contents: [number, number] | undefined;
  const label = () => (name === undefined ? `input ${index}` : `input ${quote(new TextDecoder().decode(bytes.subarray(name[0], name[1])))}`);
  while (cursor.next()) {
    const { field, wire } = cursor;
    if (field === 3 && (wire === VARINT || wire === LENGTH)) {
      // The shape, packed (the usual) or one dim per field: count and multiply in place.
      const addDim = (from: WireCursor) => {
        elements *= from.varint();
        negative ||= from.negative;
        if (++dims > MAX_TENSOR_RANK) {
          throw new InferError('REQUEST_LIMIT', `${label()} has more than ${MAX_TENSOR_RANK} dims; a tensor may have at most ${MAX_TENSOR_RANK}`);
        }
      };
      if (wire === VARINT) addDim(cursor);
      else {
        cursor.lengthDelimited();
        const shape = new WireCursor(bytes, cursor.start, cursor.end);
        while (shape.pos < cursor.end) addDim(shape);
      }
      continue;
    }
    if (wire !== LENGTH) {
      cursor.skip();
      continue;
    }
    cursor.lengthDelimited();
    const { start: fieldStart, end: fieldEnd } = cursor;
    if (field === 1) {
      checkName(fieldEnd - fieldStart, `the name of input ${index}`, limits);
      name = [fieldStart, fieldEnd];
    } else if (field === 2) {
      checkName(fieldEnd - fieldStart, `the datatype of input ${index}`, limits);
      isBytes = spells(bytes, fieldStart, fieldEnd, 'BYTES');
    } else if (field === 4) {
      checkCount(++parameters, `input ${index} has`, 'parameters', limits);
      sharedMemory = scanParameter(bytes, fieldStart, fieldEnd, `a parameter of input ${index}`, limits) || sharedMemory;
    } else if (field === 5) {
      contents = [fieldStart, fieldEnd];
    }
  }
  if (!negative && elements > limits.maxTensorElements) {
    const count = elements < 2 ** 53 ? String(elements) : 'more than 2^53';
    throw limitError(`${label()} has a shape of ${count} elements; this server takes at most ${limits.maxTensorElements}`, 'maxTensorElements');
  }
  if (contents !== undefined) scanContents(bytes, contents[0], contents[1], label, limits);
  const takesRaw = contents === undefined && !sharedMemory;
  return { takesRaw, bytesLabel: takesRaw && isBytes ? label : undefined };
}

/** InferTensorContents: every element of every field counts; BYTES elements by length too. */
function scanContents(bytes: Uint8Array, start: number, end: number, label: () => string, limits: RequestLimits): void {
  const cursor = new WireCursor(bytes, start, end);
  let elements = 0;
  while (cursor.next()) {
    const { field, wire } = cursor;
    if (field < 1 || field > 8) {
      cursor.skip();
      continue;
    }
    if (field === 8) {
      if (wire !== LENGTH) {
        cursor.skip();
        continue;
      }
      const length = cursor.lengthDelimited();
      if (length > limits.maxBytesElementBytes) {
        throw limitError(`a BYTES element in the contents of ${label()} is ${length} bytes long; this server takes at most ${limits.maxBytesElementBytes}`, 'maxBytesElementBytes');
      }
      elements += 1;
    } else if (wire === LENGTH) {
      cursor.lengthDelimited();
      elements += packedCount(bytes, cursor.start, cursor.end, field, cursor);
    } else {
      cursor.skip();
      elements += 1;
    }
    if (elements > limits.maxTypedElements) {
      throw limitError(`the typed contents of ${label()} have more than ${limits.maxTypedElements} elements, the most this server takes`, 'maxTypedElements');
    }
  }
}

/** Elements in a packed repeated field: fixed-size for fp32 (6) and fp64 (7), else varints. */
function packedCount(bytes: Uint8Array, start: number, end: number, field: number, cursor: WireCursor): number {
  const size = field === 6 ? 4 : field === 7 ? 8 : 0;
  if (size > 0) {
    if ((end - start) % size !== 0) cursor.fail(`packed field ${field} of the contents has ${end - start} bytes, not a multiple of ${size}`);
    return (end - start) / size;
  }
  let count = 0;
  for (let i = start; i < end; i++) if (bytes[i]! < 0x80) count += 1;
  if (end > start && bytes[end - 1]! >= 0x80) cursor.fail(`packed field ${field} of the contents ends inside a varint`);
  return count;
}

/** InferRequestedOutputTensor: name and parameters. */
function scanOutput(bytes: Uint8Array, start: number, end: number, index: number, limits: RequestLimits): void {
  const cursor = new WireCursor(bytes, start, end);
  let parameters = 0;
  while (cursor.next()) {
    const { field, wire } = cursor;
    if (wire !== LENGTH || (field !== 1 && field !== 2)) {
      cursor.skip();
      continue;
    }
    cursor.lengthDelimited();
    const { start: fieldStart, end: fieldEnd } = cursor;
    if (field === 1) checkName(fieldEnd - fieldStart, `the name of requested output ${index}`, limits);
    else {
      checkCount(++parameters, `requested output ${index} has`, 'parameters', limits);
      scanParameter(bytes, fieldStart, fieldEnd, `a parameter of requested output ${index}`, limits);
    }
  }
}

/** A map<string, InferParameter> entry: its key is a name. True when it names a shared memory region. */
function scanParameter(bytes: Uint8Array, start: number, end: number, what: string, limits: RequestLimits): boolean {
  const cursor = new WireCursor(bytes, start, end);
  let region = false;
  let value = false;
  while (cursor.next()) {
    if (cursor.field === 1 && cursor.wire === LENGTH) {
      checkName(cursor.lengthDelimited(), `the key of ${what}`, limits);
      region = spells(bytes, cursor.start, cursor.end, 'shared_memory_region');
    } else if (cursor.field === 2 && cursor.wire === LENGTH) {
      // A value with no choice set is no region to the codec (shm-tensors.ts).
      value = cursor.lengthDelimited() > 0;
    } else cursor.skip();
  }
  return region && value;
}

function checkName(length: number, what: string, limits: RequestLimits): void {
  if (length > limits.maxNameBytes) throw limitError(`${what} is ${length} bytes long; this server takes at most ${limits.maxNameBytes}`, 'maxNameBytes');
}

function checkCount(count: number, what: string, noun: string, limits: RequestLimits): void {
  if (count > limits.maxInputs) throw limitError(`${what} more than ${limits.maxInputs} ${noun}, the most this server takes`, 'maxInputs');
}

/**
 * Reads protobuf wire format between `pos` and `end` without copying: tags, varints and
 * the bounds of length-delimited fields. Every read is checked against `end`.
 */
class WireCursor {
  field = 0;
  wire = 0;
  /** The last varint read had bit 63 set (a negative int64). */
  negative = false;
  /** Bounds of the last length-delimited field stepped over. */
  start = 0;
  end = 0;

  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly limit: number,
  ) {}

  /** Reads the next tag; false at the end. */
  next(): boolean {
    if (this.pos >= this.limit) return false;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0) this.fail('field number 0');
    return true;
  }

  /** An unsigned varint of up to 10 bytes, as a number (exact below 2^53). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) this.fail('a varint runs past the end of its field');
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) {
        this.negative = i === 9 && (byte & 1) === 1;
        return value;
      }
    }
    return this.fail('a varint is longer than 10 bytes');
  }

  /**
   * Steps over a length-delimited field, leaving its bounds in `start` and `end`;
   * returns its length.
   */
  lengthDelimited(): number {
    const length = this.varint();
    if (length > this.limit - this.pos) this.fail(`field ${this.field} (length-delimited, ${length} bytes) runs past the end of its message`);
    this.start = this.pos;
    this.pos += length;
    this.end = this.pos;
    return length;
  }

  /** Steps over the value of the field whose tag was just read. */
  skip(): void {
    switch (this.wire) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH:
        this.lengthDelimited();
        return;
      case FIXED32:
        this.advance(4);
        return;
      default:
        this.fail(`field ${this.field} has wire type ${this.wire}, which proto3 messages do not use`);
    }
  }

  fail(reason: string): never {
    throw new InferError('REQUEST_MALFORMED', `ModelInfer request does not parse as inference.ModelInferRequest: ${reason} (at byte ${this.pos})`);
  }

  private advance(count: number): void {
    if (count > this.limit - this.pos) this.fail(`field ${this.field} runs past the end of its message`);
    this.pos += count;
  }
}
