/**
 * The part of KServe's CRD schemas (serving.kserve.io) that Nereid's manifests use: the
 * ClusterServingRuntime / ServingRuntime spec (v1alpha1) and an InferenceService predictor
 * (v1beta1) with a `model`. No npm package ships KServe's CRDs or models, and the check must run
 * offline, so the field names, types and enums are written here from KServe's API types
 * (pkg/apis/serving/v1alpha1/servingruntime_types.go, v1beta1/component.go, predictor.go).
 * Fields of Kubernetes' own types inside them (containers, volumes, tolerations, affinity) are
 * validated by kubernetes-models. An unknown field is an error: a structural CRD schema would
 * silently drop it, so a typo would otherwise change nothing and go unnoticed.
 */
import { Affinity } from 'kubernetes-models/v1/Affinity';
import { Container } from 'kubernetes-models/v1/Container';
import { LocalObjectReference } from 'kubernetes-models/v1/LocalObjectReference';
import { Toleration } from 'kubernetes-models/v1/Toleration';
import { Volume } from 'kubernetes-models/v1/Volume';

/** A field's shape; `k8s` hands the value to a kubernetes-models class. */
type Shape =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'integer'; minimum?: number }
  | { type: 'boolean' }
  | { type: 'stringMap' }
  | { type: 'object'; properties: Readonly<Record<string, Shape>>; required?: readonly string[]; open?: boolean }
  | { type: 'array'; items: Shape; minItems?: number }
  | { type: 'k8s'; model: new (data: never) => { validate(): void } };

/** KServe's InferenceServiceProtocol values. */
const PROTOCOLS = ['v1', 'v2', 'grpc-v1', 'grpc-v2'] as const;
const str: Shape = { type: 'string' };
const bool: Shape = { type: 'boolean' };
const int: Shape = { type: 'integer' };

/** ServingRuntimePodSpec: the pod-level fields a runtime may set. */
const RUNTIME_POD_SPEC: Record<string, Shape> = {
  containers: { type: 'array', items: { type: 'k8s', model: Container }, minItems: 1 },
  volumes: { type: 'array', items: { type: 'k8s', model: Volume } },
  nodeSelector: { type: 'stringMap' },
  affinity: { type: 'k8s', model: Affinity },
  tolerations: { type: 'array', items: { type: 'k8s', model: Toleration } },
  labels: { type: 'stringMap' },
  annotations: { type: 'stringMap' },
  imagePullSecrets: { type: 'array', items: { type: 'k8s', model: LocalObjectReference } },
  hostIPC: bool,
};

/** serving.kserve.io/v1alpha1 ServingRuntimeSpec (ClusterServingRuntime and ServingRuntime). */
export const SERVING_RUNTIME_SPEC: Shape = {
  type: 'object',
  required: ['containers'],
  properties: {
    supportedModelFormats: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: { name: str, version: str, autoSelect: bool, priority: { type: 'integer', minimum: 1 } },
      },
    },
    multiModel: bool,
    disabled: bool,
    protocolVersions: { type: 'array', items: { type: 'string', enum: PROTOCOLS } },
    workerSpec: { type: 'object', properties: {}, open: true },
    ...RUNTIME_POD_SPEC,
    grpcEndpoint: str,
    grpcDataEndpoint: str,
    httpDataEndpoint: str,
    replicas: { type: 'integer', minimum: 0 },
    storageHelper: { type: 'object', properties: { disabled: bool } },
    builtInAdapter: {
      type: 'object',
      properties: { serverType: str, runtimeManagementPort: int, memBufferBytes: int, modelLoadingTimeoutMillis: int, env: { type: 'array', items: { type: 'object', properties: {}, open: true } } },
    },
  },
};

/** The fields of a v1beta1 ModelSpec besides its inlined Container. */
const MODEL_FIELDS: Record<string, Shape> = {
  modelFormat: { type: 'object', required: ['name'], properties: { name: str, version: str } },
  runtime: str,
  storageUri: str,
  runtimeVersion: str,
  protocolVersion: { type: 'string', enum: PROTOCOLS },
  storage: { type: 'object', properties: {}, open: true },
};

/** serving.kserve.io/v1beta1 InferenceServiceSpec, with a predictor given as `model`. */
export const INFERENCE_SERVICE_SPEC: Shape = {
  type: 'object',
  required: ['predictor'],
  properties: {
    predictor: {
      type: 'object',
      required: ['model'],
      properties: {
        model: { type: 'object', required: ['modelFormat'], properties: MODEL_FIELDS, open: true },
        // ComponentExtensionSpec
        minReplicas: { type: 'integer', minimum: 0 },
        maxReplicas: { type: 'integer', minimum: 0 },
        scaleTarget: int,
        scaleMetric: { type: 'string', enum: ['cpu', 'memory', 'concurrency', 'rps'] },
        containerConcurrency: { type: 'integer', minimum: 0 },
        timeout: int,
        canaryTrafficPercent: { type: 'integer', minimum: 0 },
        labels: { type: 'stringMap' },
        annotations: { type: 'stringMap' },
        // PodSpec fields commonly set on a predictor
        serviceAccountName: str,
        nodeSelector: { type: 'stringMap' },
        tolerations: { type: 'array', items: { type: 'k8s', model: Toleration } },
        affinity: { type: 'k8s', model: Affinity },
        volumes: { type: 'array', items: { type: 'k8s', model: Volume } },
        imagePullSecrets: { type: 'array', items: { type: 'k8s', model: LocalObjectReference } },
      },
    },
    transformer: { type: 'object', properties: {}, open: true },
    explainer: { type: 'object', properties: {}, open: true },
  },
};

/** KServe's InferenceService name rule (a DNS-1035 label). */
export const INFERENCE_SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Errors of `value` against `shape`, each prefixed with its path (e.g. `spec.containers[0]`). */
export function validateShape(value: unknown, shape: Shape, at: string): string[] {
  const fail = (why: string) => [`${at}: ${why}`];
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') return fail('must be a string');
      if (shape.enum !== undefined && !shape.enum.includes(value)) return fail(`'${value}' is not one of ${shape.enum.join(', ')}`);
      if (shape.pattern !== undefined && !shape.pattern.test(value)) return fail(`'${value}' does not match ${shape.pattern}`);
      return [];
    case 'integer':
      if (!Number.isInteger(value)) return fail('must be an integer');
      return shape.minimum !== undefined && (value as number) < shape.minimum ? fail(`must be at least ${shape.minimum}`) : [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : fail('must be true or false');
    case 'stringMap':
      if (!isObject(value)) return fail('must be a map of strings');
      return Object.entries(value).flatMap(([k, v]) => (typeof v === 'string' ? [] : [`${at}.${k}: must be a string`]));
    case 'array':
      if (!Array.isArray(value)) return fail('must be a list');
      if (shape.minItems !== undefined && value.length < shape.minItems) return fail(`needs at least ${shape.minItems} item(s)`);
      return value.flatMap((item, i) => validateShape(item, shape.items, `${at}[${i}]`));
    case 'k8s':
      try {
        new shape.model(value as never).validate();
        return [];
      } catch (err) {
        return fail((err as Error).message);
      }
    case 'object': {
      if (!isObject(value)) return fail('must be an object');
      const errors = (shape.required ?? []).filter((k) => value[k] === undefined).map((k) => `${at}.${k}: required`);
      for (const [key, inner] of Object.entries(value)) {
        const field = shape.properties[key];
        if (field !== undefined) errors.push(...validateShape(inner, field, `${at}.${key}`));
        else if (shape.open !== true) errors.push(`${at}.${key}: unknown field`);
      }
      return errors;
    }
  }
}

/** The InferenceService model's inlined Container (everything but ModelSpec's own fields), checked as one. */
export function modelContainerErrors(model: Record<string, unknown>, at: string): string[] {
  const container = Object.fromEntries(Object.entries(model).filter(([k]) => !(k in MODEL_FIELDS)));
  return validateShape({ name: 'kserve-container', ...container }, { type: 'k8s', model: Container }, at);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
