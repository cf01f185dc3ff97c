/**
 * Reading, writing, copying and fingerprinting whole ONNX models, plus the
 * small protobuf conveniences (64-bit integers, opset lookup) that every graph
 * transformation in this folder needs.
 *
 * Models are handled as `onnx-proto` (protobufjs) objects. Transformations
 * never mutate their input: they work on {@link cloneModel}'s deep copy.
 */
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;

/** A protobuf int64 as protobufjs hands it over: a number, or a `Long` object. */
export type IntLike = number | { toNumber(): number } | null | undefined;

/** The JavaScript number of a protobuf int64 (`0` when absent). */
export function toNumber(value: IntLike): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Decodes ONNX protobuf bytes. Throws a plain Error naming the problem when they are not a model. */
export function readModel(bytes: Uint8Array): ModelProto {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`not a valid ONNX model: ${(err as Error).message}`);
  }
  if (m.graph === null || m.graph === undefined) throw new Error('not a valid ONNX model: it has no graph');
  return m;
}

/** Encodes a model to ONNX protobuf bytes (deterministic for equal input). */
export function writeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/** A deep copy of `m`, safe to edit without touching the original. */
export function cloneModel(m: ModelProto): ModelProto {
  return readModel(writeModel(m));
}

/** The model's graph; throws when it has none. */
export function mainGraph(m: ModelProto): GraphProto {
  if (m.graph === null || m.graph === undefined) throw new Error('the model has no graph');
  return m.graph;
}

function isDefaultDomain(domain: string | null | undefined): boolean {
  return domain === undefined || domain === null || domain === '' || domain === 'ai.onnx';
}

/** The version of the default (`ai.onnx`) opset the model imports; 0 when it imports none. */
export function defaultOpsetVersion(m: ModelProto): number {
  const entry = (m.opsetImport ?? []).find((o) => isDefaultDomain(o.domain));
  return toNumber(entry?.version);
}

/** Sets the default-domain opset import to `version` (adding it when missing). */
export function setDefaultOpsetVersion(m: ModelProto, version: number): void {
  const imports = m.opsetImport ?? (m.opsetImport = []);
  const entry = imports.find((o) => isDefaultDomain(o.domain));
  if (entry === undefined) imports.push({ domain: '', version });
  else entry.version = version;
}

/** Adds an opset import for `domain` unless one is already there. */
export function ensureOpsetImport(m: ModelProto, domain: string, version: number): void {
  const imports = m.opsetImport ?? (m.opsetImport = []);
  if (!imports.some((o) => (o.domain ?? '') === domain)) imports.push({ domain, version });
}

/** JSON with object keys sorted at every level, so equal settings always give equal text. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

/**
 * A cache key for a model variant: the sha256 (hex) of the source model's bytes
 * followed by a NUL and the stable JSON of the settings that derive the variant
 * (e.g. `{ precision: 'int8', perChannel: true }`). Key order in `settings`
 * does not matter.
 */
export function modelHash(bytes: Uint8Array, settings: unknown): string {
  return createHash('sha256').update(bytes).update('\0').update(stableJson(settings)).digest('hex');
}

/**
 * A name generator that never returns a name already used in the model (any
 * node output, input, initializer or node name, subgraphs included).
 */
export class NameScope {
  private readonly used = new Set<string>();

  constructor(m: ModelProto) {
    const visit = (g: GraphProto): void => {
      for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) this.used.add(v.name ?? '');
      for (const t of g.initializer ?? []) this.used.add(t.name ?? '');
      for (const n of g.node ?? []) {
        if (n.name) this.used.add(n.name);
        for (const o of n.output ?? []) this.used.add(o);
        for (const i of n.input ?? []) this.used.add(i);
        for (const a of n.attribute ?? []) {
          if (a.g) visit(a.g);
          for (const sub of a.graphs ?? []) visit(sub);
        }
      }
    };
    visit(mainGraph(m));
  }

  /** `base` itself when free, else `base_1`, `base_2`, ...; the name returned is reserved. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}
