import { describeCpu, expectsU8s8Saturation } from '../core/cpu-features.js';
import type { Int8Format, Int8FormatSetting } from '../core/int8-format.js';
import type { BuildHost } from './build-host.js';

/** The formats to build and measure for a model's int8 variant, and why those. */
export interface Int8FormatPlan {
  /** Every format to build, in this order: the first `preferred` are measured against each other, the rest are fallbacks. */
  readonly candidates: readonly Int8Format[];
  /** How many of `candidates` are preferred; a fallback is served only when no preferred one meets the tolerance. */
  readonly preferred: number;
  readonly why: string;
  /** Said once in the log when the plan knowingly costs accuracy or disagrees with the flags. */
  readonly warning?: string;
}

/**
 * Which int8 formats to build: `auto` takes u8s8 where ONNX Runtime's U8S8 kernel is exact
 * (VNNI, AMX, ARM), with u8s8_reduce_range as a fallback for a model whose u8s8 misses its
 * tolerance (u8u8 computes exactly what u8s8 does there, only slower); elsewhere it measures
 * u8u8 and u8s8_reduce_range, both exact there, and serves the better of the two (see
 * {@link chooseCandidate}). A format set in the config is built alone.
 */
export function planInt8Formats(setting: Int8FormatSetting, host: BuildHost): Int8FormatPlan {
  const exact = host.u8s8Exact ?? expectsU8s8Saturation(host.cpu) === false;
  const kernel = exact ? "ONNX Runtime's U8S8 kernel is exact on this CPU" : "ONNX Runtime's U8S8 kernel saturates on this CPU (x86 without VNNI)";
  const predicted = expectsU8s8Saturation(host.cpu);
  const disagree =
    host.u8s8Exact !== undefined && predicted !== undefined && predicted === host.u8s8Exact
      ? `the CPU's flags (${describeCpu(host.cpu)}) predict that ONNX Runtime's U8S8 kernel ${predicted ? 'saturates' : 'is exact'}, ` +
        `but it ${host.u8s8Exact ? 'computed exactly' : 'saturated'} when checked (an emulator, or a hypervisor hiding features?); going by the check`
      : undefined;
  if (setting !== 'auto') {
    const costly = setting === 'u8s8' && !exact ? `int8_format u8s8 is set, but ${kernel}: expect a large int8 error` : undefined;
    return { candidates: [setting], preferred: 1, why: `int8_format ${setting} is set in the model config; ${kernel}`, ...warning(disagree, costly) };
  }
  if (exact) {
    return { candidates: ['u8s8', 'u8s8_reduce_range'], preferred: 1, why: `auto: ${kernel}, so u8s8, with u8s8_reduce_range as the fallback`, ...warning(disagree) };
  }
  return {
    candidates: ['u8u8', 'u8s8_reduce_range'],
    preferred: 2,
    why: `auto: ${kernel}, so u8u8 and u8s8_reduce_range (both exact there) were measured and the better one is served`,
    ...warning(disagree),
  };
}

function warning(...parts: (string | undefined)[]): { warning?: string } {
  const text = parts.filter((p) => p !== undefined).join('; ');
  return text === '' ? {} : { warning: text };
}

/** What {@link chooseCandidate} needs of one measured candidate. */
export interface MeasuredCandidate {
  /** Relative L2 error against fp32; undefined when the candidate could not be built. */
  readonly relativeL2Error?: number;
  readonly speedup?: number;
  /** Whether its figures meet the model's tolerance. */
  readonly passes: boolean;
}

/**
 * Speed-ups at load within this factor of each other are a tie (the load-time timing is a
 * few runs on a shared machine), and a tie goes to the more accurate candidate.
 */
export const SPEED_TIE = 1.1;

/**
 * The candidate to serve: of the first `preferred` that are within tolerance, the fastest,
 * unless a more accurate one is within {@link SPEED_TIE} of its speed; when none of those
 * is within tolerance, the same among the fallbacks; when none at all is, the most accurate
 * (whose failure is then reported); when none was built, the first.
 */
export function chooseCandidate(candidates: readonly MeasuredCandidate[], preferred = candidates.length): number {
  const indices = candidates.map((_, i) => i);
  const speed = (i: number) => candidates[i]!.speedup ?? 0;
  const error = (i: number) => candidates[i]!.relativeL2Error!;
  const mostAccurate = (among: number[]) => among.reduce((best, i) => (error(i) < error(best) ? i : best));
  for (const tier of [indices.slice(0, preferred), indices.slice(preferred)]) {
    const passing = tier.filter((i) => candidates[i]!.passes);
    if (passing.length === 0) continue;
    const fastest = passing.reduce((best, i) => (speed(i) > speed(best) ? i : best));
    return mostAccurate(passing.filter((i) => speed(i) * SPEED_TIE >= speed(fastest)));
  }
  const built = indices.filter((i) => candidates[i]!.relativeL2Error !== undefined);
  return built.length > 0 ? mostAccurate(built) : 0;
}
