/**
 * What scripts/check-manifests.ts checks in each manifest under deploy/: Kubernetes objects
 * against the Kubernetes OpenAPI schemas (kubernetes-models, with the KEDA and
 * prometheus-operator packages for their CRDs), KServe objects against kserve-schema.ts, and
 * then whether the objects fit together and with Nereid itself (selectors, port names, probe
 * ports and services, the grace period against --exit-timeout-secs, args Nereid accepts).
 */
import { loadConfig } from '../../src/config/load-config.js';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { INFERENCE_SERVICE_NAME, INFERENCE_SERVICE_SPEC, modelContainerErrors, SERVING_RUNTIME_SPEC, validateShape } from './kserve-schema.js';

/** One YAML document and the file it came from. */
export interface Manifest {
  readonly file: string;
  readonly doc: Record<string, unknown>;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KUBERNETES_MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Namespace': Namespace,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

/** Schema errors of one object, each prefixed with its file, kind and name. */
export function schemaErrors({ file, doc }: Manifest): string[] {
  const type = `${String(doc['apiVersion'])} ${String(doc['kind'])}`;
  const name = (doc['metadata'] as Obj | undefined)?.['name'];
  const where = `${file}: ${doc['kind']} ${name ?? '(no name)'}`;
  const model = KUBERNETES_MODELS[type];
  const errors: string[] = [];
  if (typeof name !== 'string' && type !== 'kustomize.config.k8s.io/v1beta1 Kustomization') errors.push('metadata.name: required');
  if (model !== undefined) {
    try {
      new model(doc as never).validate();
    } catch (err) {
      errors.push((err as Error).message);
    }
  } else if (type === 'serving.kserve.io/v1alpha1 ClusterServingRuntime' || type === 'serving.kserve.io/v1alpha1 ServingRuntime') {
    if (doc['kind'] === 'ClusterServingRuntime' && (doc['metadata'] as Obj)?.['namespace'] !== undefined) errors.push('metadata.namespace: a ClusterServingRuntime is cluster-scoped');
    errors.push(...validateShape(doc['spec'], SERVING_RUNTIME_SPEC, 'spec'));
  } else if (type === 'serving.kserve.io/v1beta1 InferenceService') {
    if (typeof name === 'string' && !INFERENCE_SERVICE_NAME.test(name)) errors.push(`metadata.name: '${name}' is not a valid InferenceService name (${INFERENCE_SERVICE_NAME})`);
    errors.push(...validateShape(doc['spec'], INFERENCE_SERVICE_SPEC, 'spec'));
    const model = (doc['spec'] as Obj | undefined)?.['predictor']?.['model'];
    if (model !== undefined && typeof model === 'object') errors.push(...modelContainerErrors(model as Obj, 'spec.predictor.model'));
  } else if (type !== 'kustomize.config.k8s.io/v1beta1 Kustomization') {
    errors.push(`no schema for ${type}`);
  }
  return errors.map((e) => `${where}: ${e}`);
}

const byKind = (manifests: readonly Manifest[], kind: string) => manifests.filter((m) => m.doc['kind'] === kind).map((m) => m.doc as Obj);
const matches = (selector: Obj | undefined, labels: Obj | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The seconds a `preStop: exec: sleep N` hook waits, else 0. */
function preStopSeconds(container: Obj): number {
  const command = container['lifecycle']?.['preStop']?.['exec']?.['command'] as string[] | undefined;
  return command?.[0] === 'sleep' ? Number(command[1]) : 0;
}

/** Errors in a Nereid container: its args as Nereid reads them, and its probes against its ports. */
function containerErrors(where: string, container: Obj, graceSeconds: number | undefined): string[] {
  const errors: string[] = [];
  const args = (container['args'] ?? []) as string[];
  let config;
  try {
    const command = loadConfig(args, {});
    if (command.kind !== 'run') return [`${where}: args ask for ${command.kind}`];
    for (const warning of command.warnings) errors.push(`${where}: args: ${warning.message}`);
    config = command.config;
  } catch (err) {
    return [`${where}: args refused by Nereid: ${(err as Error).message}`];
  }
  const ports = ((container['ports'] ?? []) as Obj[]).map((p) => p['containerPort'] as number);
  if (!ports.includes(config.grpc.port)) errors.push(`${where}: --grpc-port ${config.grpc.port} is not a containerPort (${ports.join(', ')})`);
  const probes: [string, string][] = [['livenessProbe', 'live'], ['readinessProbe', ''], ['startupProbe', '']];
  for (const [probe, service] of probes) {
    const grpc = container[probe]?.['grpc'] as Obj | undefined;
    if (grpc === undefined) {
      if (probe !== 'startupProbe') errors.push(`${where}: ${probe} should be a gRPC probe`);
      continue;
    }
    if (grpc['port'] !== config.grpc.port) errors.push(`${where}: ${probe} asks port ${grpc['port']}, gRPC is on ${config.grpc.port}`);
    if ((grpc['service'] ?? '') !== service) errors.push(`${where}: ${probe} asks health service '${grpc['service'] ?? ''}', expected '${service}'`);
  }
  if (graceSeconds !== undefined && graceSeconds < config.exitTimeoutSecs + preStopSeconds(container)) {
    errors.push(`${where}: terminationGracePeriodSeconds ${graceSeconds} is shorter than preStop (${preStopSeconds(container)} s) + --exit-timeout-secs (${config.exitTimeoutSecs} s)`);
  }
  return errors;
}

/** Whether the objects fit together and with Nereid. */
export function consistencyErrors(manifests: readonly Manifest[]): string[] {
  const errors: string[] = [];
  const deployments = byKind(manifests, 'Deployment');
  const services = byKind(manifests, 'Service');
  for (const deployment of deployments) {
    const pod = deployment['spec']['template'];
    for (const container of pod['spec']['containers'] as Obj[]) {
      errors.push(...containerErrors(`Deployment ${deployment['metadata']['name']}`, container, pod['spec']['terminationGracePeriodSeconds'] ?? 30));
    }
    if (!matches(deployment['spec']['selector']['matchLabels'], pod['metadata']?.['labels'])) errors.push(`Deployment ${deployment['metadata']['name']}: selector does not match its pod labels`);
  }
  const podLabels = deployments.map((d) => d['spec']['template']['metadata']?.['labels'] as Obj);
  const portNames = new Set(deployments.flatMap((d) => (d['spec']['template']['spec']['containers'] as Obj[]).flatMap((c) => ((c['ports'] ?? []) as Obj[]).map((p) => p['name']))));
  for (const service of services) {
    const name = `Service ${service['metadata']['name']}`;
    if (!podLabels.some((labels) => matches(service['spec']['selector'], labels))) errors.push(`${name}: selector matches no Deployment's pods`);
    for (const port of service['spec']['ports'] as Obj[]) {
      if (typeof port['targetPort'] === 'string' && !portNames.has(port['targetPort'])) errors.push(`${name}: targetPort '${port['targetPort']}' names no container port`);
      if (port['name'] === 'grpc' && port['appProtocol'] !== 'grpc') errors.push(`${name}: the grpc port needs appProtocol: grpc`);
    }
  }
  for (const pdb of byKind(manifests, 'PodDisruptionBudget')) {
    if (!podLabels.some((labels) => matches(pdb['spec']['selector']['matchLabels'], labels))) errors.push(`PodDisruptionBudget ${pdb['metadata']['name']}: selector matches no Deployment's pods`);
  }
  for (const monitor of byKind(manifests, 'ServiceMonitor')) {
    const target = services.find((s) => matches(monitor['spec']['selector']['matchLabels'], s['metadata']['labels']));
    if (target === undefined) errors.push(`ServiceMonitor ${monitor['metadata']['name']}: selector matches no Service`);
    for (const endpoint of monitor['spec']['endpoints'] as Obj[]) {
      if (target !== undefined && !(target['spec']['ports'] as Obj[]).some((p) => p['name'] === endpoint['port'])) errors.push(`ServiceMonitor ${monitor['metadata']['name']}: no Service port named '${endpoint['port']}'`);
    }
  }
  for (const scaled of byKind(manifests, 'ScaledObject')) {
    const name = `ScaledObject ${scaled['metadata']['name']}`;
    if (!deployments.some((d) => d['metadata']['name'] === scaled['spec']['scaleTargetRef']['name'])) errors.push(`${name}: scaleTargetRef names no Deployment`);
    const queries = (scaled['spec']['triggers'] as Obj[]).map((t) => String(t['metadata']?.['query'] ?? '')).join('\n');
    for (const metric of ['nv_inference_pending_request_count', 'nv_inference_queue_duration_us']) {
      if (!queries.includes(metric)) errors.push(`${name}: no trigger queries ${metric}`);
    }
  }
  const runtimes = byKind(manifests, 'ClusterServingRuntime');
  for (const runtime of runtimes) {
    for (const container of runtime['spec']['containers'] as Obj[]) errors.push(...containerErrors(`ClusterServingRuntime ${runtime['metadata']['name']}`, container, undefined));
  }
  for (const isvc of byKind(manifests, 'InferenceService')) {
    const model = isvc['spec']['predictor']['model'] as Obj;
    const name = `InferenceService ${isvc['metadata']['name']}`;
    const runtime = runtimes.find((r) => r['metadata']['name'] === model['runtime']);
    if (runtime === undefined) {
      errors.push(`${name}: runtime '${model['runtime']}' is no ClusterServingRuntime here`);
      continue;
    }
    if (!(runtime['spec']['supportedModelFormats'] as Obj[]).some((f) => f['name'] === model['modelFormat']['name'])) errors.push(`${name}: runtime ${model['runtime']} does not support format ${model['modelFormat']['name']}`);
    if (model['protocolVersion'] !== undefined && !(runtime['spec']['protocolVersions'] as string[]).includes(model['protocolVersion'])) errors.push(`${name}: runtime ${model['runtime']} does not speak ${model['protocolVersion']}`);
  }
  return errors;
}
