import { type AccuracyFigures, formatFigure, type Precision } from '../core/precision.js';
import { maxAbsError, relativeL2Error, top1Agreement } from '../onnx/accuracy.js';
import { graphProducers } from '../onnx/graph-edit.js';
import type { ModelProto } from '../onnx/graph-builder.js';
import { mainGraph } from '../onnx/onnx-model.js';
import type { RunOutputs } from './build-sessions.js';

/** A model output as the accuracy check sees it. */
export interface MeasuredOutput {
  readonly name: string;
  /** Arg-max over the last axis is meaningful: top-1 agreement is measured. */
  readonly classifier: boolean;
}

/** The model's outputs; classifiers are those named, or else those a Softmax or LogSoftmax produces. */
export function describeOutputs(model: ModelProto, classifierOutputs: readonly string[] | undefined): MeasuredOutput[] {
  const g = mainGraph(model);
  const producers = graphProducers(g);
  return (g.output ?? []).map((o) => {
    const name = o.name ?? '';
    const op = producers.get(name)?.opType ?? '';
    return { name, classifier: classifierOutputs !== undefined ? classifierOutputs.includes(name) : op === 'Softmax' || op === 'LogSoftmax' };
  });
}

/** Accuracy of `candidate` against `reference` over every float output; the worst figure of each kind. */
export function compareRuns(reference: readonly RunOutputs[], candidate: readonly RunOutputs[], outputs: readonly MeasuredOutput[], batches: number): AccuracyFigures {
  let maxAbs = 0;
  let relL2 = 0;
  let top1: number | undefined;
  for (const output of outputs) {
    const ref = concat(reference.map((r) => r.get(output.name)));
    const got = concat(candidate.map((r) => r.get(output.name)));
    if (ref === undefined || got === undefined) continue;
    maxAbs = Math.max(maxAbs, maxAbsError(ref, got));
    relL2 = Math.max(relL2, relativeL2Error(ref, got));
    const classes = reference[0]!.get(output.name)!.dims.at(-1) ?? 1;
    if (output.classifier && classes > 1) top1 = Math.min(top1 ?? 1, top1Agreement(ref, got, classes));
  }
  return { maxAbsError: maxAbs, relativeL2Error: relL2, ...(top1 !== undefined ? { top1Agreement: top1 } : {}), batches };
}

/** The worse of two sets of figures, kind by kind. */
export function worstOf(a: AccuracyFigures, b: AccuracyFigures): AccuracyFigures {
  const top1 = a.top1Agreement === undefined || b.top1Agreement === undefined ? undefined : Math.min(a.top1Agreement, b.top1Agreement);
  return {
    maxAbsError: Math.max(a.maxAbsError, b.maxAbsError),
    relativeL2Error: Math.max(a.relativeL2Error, b.relativeL2Error),
    ...(top1 !== undefined ? { top1Agreement: top1 } : {}),
    batches: a.batches,
  };
}

/** Why figures miss the tolerance ('' when they meet it), as the model's status reason says it. */
export function toleranceFailure(precision: Precision, a: AccuracyFigures, tolerance: { readonly maxRelativeError: number; readonly minTop1Agreement: number }): string {
  const failures: string[] = [];
  if (!(a.relativeL2Error <= tolerance.maxRelativeError)) {
    failures.push(`relative L2 error ${formatFigure(a.relativeL2Error)} exceeds max_relative_error ${tolerance.maxRelativeError}`);
  }
  if (a.top1Agreement !== undefined && !(a.top1Agreement >= tolerance.minTop1Agreement)) {
    failures.push(`top-1 agreement ${formatFigure(a.top1Agreement)} is below min_top1_agreement ${tolerance.minTop1Agreement}`);
  }
  if (failures.length === 0) return '';
  return `the ${precision} variant failed its accuracy check against fp32 on ${a.batches} validation batches: ${failures.join('; ')} (max abs error ${formatFigure(a.maxAbsError)})`;
}

function concat(parts: readonly ({ data: Float32Array } | undefined)[]): Float32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const out = new Float32Array(parts.reduce((n, p) => n + p!.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p!.data, offset);
    offset += p!.data.length;
  }
  return out;
}
