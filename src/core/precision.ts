/**
 * Per-request precision: the numeric forms of a model a request can choose, and the
 * accuracy figures that decide whether each form is served.
 */
import type { Int8Format, Int8FormatSetting } from './int8-format.js';

/** The precisions a request can ask for (request parameter `precision`). */
export type Precision = 'fp32' | 'fp16' | 'int8';

export const PRECISIONS: readonly Precision[] = Object.freeze(['fp32', 'fp16', 'int8']);

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

/**
 * A built form of a model that an instance holds a session for. `fp16-io` is the fp16
 * form whose FP32 inputs and outputs are FP16 too; requests that send FP16 tensors run it.
 */
export type Variant = 'fp32' | 'fp16' | 'fp16-io' | 'int8';

export function precisionOf(variant: Variant): Precision {
  return variant === 'fp16-io' ? 'fp16' : variant;
}

/** A measured figure with 4 significant digits, for messages and parameters. */
export function formatFigure(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x);
}

/** How an int8 variant is quantized. */
export type Int8Mode = 'dynamic' | 'static';

/** Accuracy of a variant against fp32 on the validation inputs, over all outputs. */
export interface AccuracyFigures {
  /** Largest |fp32 - variant| over every output element. */
  readonly maxAbsError: number;
  /** ||fp32 - variant||2 / ||fp32||2, the worst output. */
  readonly relativeL2Error: number;
  /** Share of positions whose arg-max agrees with fp32 (classifier outputs only), the worst output. */
  readonly top1Agreement?: number;
  /** Validation batches the figures come from. */
  readonly batches: number;
}

/** What the load-time build says about one precision of a model version. */
export interface PrecisionReport {
  readonly precision: Precision;
  readonly served: boolean;
  /** Why it is not served ('' when it is). */
  readonly reason: string;
  readonly accuracy?: AccuracyFigures;
  /** Median latency of one validation batch relative to fp32 (> 1 = faster), measured at load. */
  readonly speedup?: number;
  /** For int8: how it was quantized. */
  readonly int8Mode?: Int8Mode;
  /** For int8: the weight format served (or, when none is served, the one measured best), and how it was chosen. */
  readonly int8Format?: Int8FormatReport;
  /** Size of the variant's model file. */
  readonly fileBytes?: number;
}

/** How an int8 variant's format was chosen, with the figures of every format measured. */
export interface Int8FormatReport {
  readonly format: Int8Format;
  /** Why these formats were built, and which one won. */
  readonly why: string;
  /** The CPU it was built and measured on (core/cpu-features.ts `describeCpu`), and its U8S8 check. */
  readonly cpu: string;
  /** Every format measured, in the order built. */
  readonly candidates: readonly { readonly format: Int8Format; readonly accuracy?: AccuracyFigures; readonly speedup?: number; readonly error?: string }[];
}

/**
 * The precisions one model version offers, as request validation needs them. A model
 * without precision settings serves fp32 only.
 */
export interface PrecisionChoice {
  readonly defaultPrecision: Precision;
  /** Served precisions, in PRECISIONS order. */
  readonly served: readonly Precision[];
  /** Precisions the config asked for that are not served, with the reason. */
  readonly unavailable: ReadonlyMap<Precision, string>;
  /** Whether FP16 tensors can be sent for the model's FP32 inputs (the fp16-io variant is loaded). */
  readonly fp16Io: boolean;
}

export const FP32_ONLY: PrecisionChoice = Object.freeze({
  defaultPrecision: 'fp32',
  served: Object.freeze(['fp32'] as Precision[]),
  unavailable: new Map<Precision, string>(),
  fp16Io: false,
});

/** Where calibration or validation inputs come from. */
export type SampleSource =
  | {
      readonly kind: 'generated';
      /** Batches to generate. */
      readonly batches: number;
      readonly seed: number;
    }
  | {
      /** A folder of .npy files: `<dir>/<sample>/<input>.npy`, or `<dir>/<sample>.npy` for one-input models. */
      readonly kind: 'directory';
      readonly path: string;
    };

/** An input of the model as generated samples need it. */
export interface SampleInputSpec {
  readonly name: string;
  /** Dims of one generated batch, batch dimension included, all concrete. */
  readonly dims: readonly number[];
}

/** Everything the load-time build of a model version's variants needs; plain data for a worker. */
export interface VariantBuildJob {
  readonly model: string;
  readonly version: number;
  readonly modelPath: string;
  /** Where built variants are cached, one subfolder per hash of model and settings. */
  readonly cacheDir: string;
  /** Precisions to build and measure besides fp32. */
  readonly precisions: readonly Precision[];
  /** Also build the fp16 form with FP16 inputs and outputs. */
  readonly fp16Io: boolean;
  readonly int8Mode: Int8Mode;
  /** How int8 weights are stored, or auto: chosen by the CPU's int8 kernels. */
  readonly int8Format: Int8FormatSetting;
  /** Activation element type of static int8 (S8S8 or U8S8 in ORT's terms). */
  readonly int8Activations: 'int8' | 'uint8';
  /** Static int8: Conv/MatMul/Gemm nodes (by name) left in fp32. */
  readonly int8ExcludeNodes: readonly string[];
  readonly calibrationMethod: 'minmax' | 'percentile';
  readonly calibration: SampleSource;
  readonly validation: SampleSource;
  /** For generated samples: each FP32 input's batch dims and the uniform range of its values. */
  readonly generated: { readonly inputs: readonly SampleInputSpec[]; readonly range: readonly [number, number] };
  readonly maxRelativeError: number;
  readonly minTop1Agreement: number;
  /** Outputs whose last axis holds class scores; undefined: those a Softmax or LogSoftmax produces. */
  readonly classifierOutputs: readonly string[] | undefined;
  /** Intra-op threads for the build's sessions. */
  readonly threads: number;
}

/** The outcome of a build: files of the served variants and a report per precision. */
export interface VariantBuildResult {
  /** Model files of the variants that meet their tolerance (fp32 is the original file). */
  readonly files: Readonly<Partial<Record<Variant, string>>>;
  /** One per precision of the job, in its order. */
  readonly reports: readonly PrecisionReport[];
  /** The cache folder the files are in. */
  readonly cacheEntry: string;
  /** True when the files and figures came from the cache. */
  readonly cached: boolean;
}
