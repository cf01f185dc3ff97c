import { formatFigure as figure, type PrecisionChoice, type PrecisionReport } from '../core/precision.js';

/**
 * Config parameters that describe what a version serves, for the ModelConfig RPC:
 * `precision.served`, `precision.default`, and per precision `precision.<p>.status`
 * ("served" or "unavailable"), `.reason`, and the figures measured against fp32 at load.
 */
export function precisionParameters(choice: PrecisionChoice, reports: readonly PrecisionReport[]): Record<string, { stringValue: string }> {
  const out: Record<string, string> = {
    'precision.served': choice.served.join(','),
    'precision.default': choice.defaultPrecision,
    'precision.fp16_io': String(choice.fp16Io),
  };
  for (const r of reports) {
    const key = (name: string) => `precision.${r.precision}.${name}`;
    out[key('status')] = r.served ? 'served' : 'unavailable';
    if (!r.served) out[key('reason')] = r.reason;
    if (r.accuracy !== undefined) {
      out[key('max_abs_error')] = figure(r.accuracy.maxAbsError);
      out[key('relative_l2_error')] = figure(r.accuracy.relativeL2Error);
      if (r.accuracy.top1Agreement !== undefined) out[key('top1_agreement')] = figure(r.accuracy.top1Agreement);
      out[key('validation_batches')] = String(r.accuracy.batches);
    }
    if (r.speedup !== undefined) out[key('speedup_vs_fp32')] = figure(r.speedup);
    if (r.int8Mode !== undefined) out[key('int8_mode')] = r.int8Mode;
    if (r.fileBytes !== undefined) out[key('file_bytes')] = String(r.fileBytes);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { stringValue: v }]));
}
