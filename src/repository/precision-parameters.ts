import { formatFigure as figure, type PrecisionChoice, type PrecisionReport } from '../core/precision.js';

/**
 * Config parameters that describe what a version serves, for the ModelConfig RPC:
 * `precision.served`, `precision.default`, and per precision `precision.<p>.status`
 * ("served" or "unavailable"), `.reason`, and the figures measured against fp32 at load.
 * For int8 also the weight format (`.format`), how it was chosen (`.format_choice`), the
 * CPU it was measured on (`.cpu`) and every format measured (`.formats_measured`).
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
    if (r.int8Format !== undefined) {
      out[key('format')] = r.int8Format.format;
      out[key('format_choice')] = r.int8Format.why;
      out[key('cpu')] = r.int8Format.cpu;
      out[key('formats_measured')] = r.int8Format.candidates
        .map((c) => `${c.format}: ${c.accuracy === undefined ? `not built (${c.error ?? 'no figures'})` : `relative L2 error ${figure(c.accuracy.relativeL2Error)}${c.accuracy.top1Agreement === undefined ? '' : `, top-1 agreement ${figure(c.accuracy.top1Agreement)}`}, ${figure(c.speedup ?? NaN)}x fp32`}`)
        .join('; ');
    }
    if (r.fileBytes !== undefined) out[key('file_bytes')] = String(r.fileBytes);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { stringValue: v }]));
}
