import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';
import { formatCorrelationId, type CorrelationId } from '../core/sequence.js';
import type { ControlTensor } from '../core/sequence-policy.js';
import { joinBytesElements } from '../core/tensor.js';

/** What the sequence batcher tells the model about one row of a batch. */
export interface ControlRow {
  readonly start: boolean;
  readonly end: boolean;
  /** False for a padding row (direct strategy: a slot with no request in this batch). */
  readonly ready: boolean;
  /** Undefined on padding rows, which get 0 (as in Triton), or '0' for a string CORRID. */
  readonly corrid: CorrelationId | undefined;
}

const UINT64_MAX = (1n << 64n) - 1n;
const encoder = new TextEncoder();

/**
 * Checks that a correlation ID can be fed to the model's CORRID control: a string ID to
 * a numeric control must be a decimal number in the uint64 range. (Triton copies the
 * bytes unchecked and the model sees garbage; here the client gets a clear error.)
 * Throws SEQUENCE_ID_INVALID.
 */
export function checkCorrelationId(controls: readonly ControlTensor[], id: CorrelationId, model: string): void {
  const corrid = controls.find((c) => c.kind === 'corrid');
  if (corrid === undefined || corrid.datatype === 'BYTES' || id.kind === 'uint64') return;
  if (numericValue(id) === undefined) {
    throw new InferError(
      'SEQUENCE_ID_INVALID',
      `sequence ID ${quote(id.value)} cannot be fed to model '${model}': its CORRID control is TYPE_${corrid.datatype}, ` +
        'so a string ID must be a decimal number in its range',
    );
  }
}

/**
 * The tensor of one control for a batch of rows: shape [rows, 1] when the model batches,
 * else [1]. START, END and READY carry the configured false/true values in the control's
 * type (INT32, FP32 or BOOL); CORRID carries the correlation ID in its data_type (an
 * integer type keeps the ID's low bytes, as Triton's copy does; BYTES holds its text).
 */
export function controlTensor(control: ControlTensor, rows: readonly ControlRow[], batching: boolean): { shape: number[]; data: Uint8Array } {
  const shape = batching ? [rows.length, 1] : [1];
  if (control.datatype === 'BYTES') {
    // Padding rows get '0', so a model that parses the ID as a number still runs them.
    const texts = rows.map((row) => encoder.encode(row.corrid === undefined ? '0' : textValue(row.corrid)));
    return { shape, data: joinBytesElements(texts) };
  }
  const view = new DataView(new ArrayBuffer(rows.length * byteSize(control)));
  rows.forEach((row, i) => write(view, i, control, row));
  return { shape, data: new Uint8Array(view.buffer) };
}

function write(view: DataView, i: number, control: ControlTensor, row: ControlRow): void {
  if (control.kind === 'corrid') {
    const value = row.corrid === undefined ? 0n : (numericValue(row.corrid) ?? 0n);
    switch (control.datatype) {
      case 'UINT64':
        view.setBigUint64(i * 8, value, true);
        return;
      case 'INT64':
        view.setBigInt64(i * 8, BigInt.asIntN(64, value), true);
        return;
      case 'UINT32':
        view.setUint32(i * 4, Number(BigInt.asUintN(32, value)), true);
        return;
      default:
        view.setInt32(i * 4, Number(BigInt.asIntN(32, value)), true);
        return;
    }
  }
  const on = control.kind === 'start' ? row.start : control.kind === 'end' ? row.end : row.ready;
  const value = control.falseTrue![on ? 1 : 0];
  if (control.datatype === 'FP32') view.setFloat32(i * 4, value, true);
  else if (control.datatype === 'BOOL') view.setUint8(i, value !== 0 ? 1 : 0);
  else view.setInt32(i * 4, value, true);
}

function byteSize(control: ControlTensor): number {
  switch (control.datatype) {
    case 'UINT64':
    case 'INT64':
      return 8;
    case 'BOOL':
      return 1;
    default:
      return 4;
  }
}

/** The ID as a number: itself, or a string's decimal value; undefined when it is none. */
function numericValue(id: CorrelationId): bigint | undefined {
  if (id.kind === 'uint64') return id.value;
  if (!/^\d{1,20}$/.test(id.value)) return undefined;
  const value = BigInt(id.value);
  return value <= UINT64_MAX ? value : undefined;
}

function textValue(id: CorrelationId): string {
  return id.kind === 'string' ? id.value : formatCorrelationId(id);
}
