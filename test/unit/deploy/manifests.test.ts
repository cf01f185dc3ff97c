import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { consistencyErrors, schemaErrors, type Manifest } from '../../../scripts/lib/manifest-checks.js';

const FILES = [
  'deploy/kubernetes/deployment.yaml',
  'deploy/kubernetes/service.yaml',
  'deploy/kubernetes/pod-disruption-budget.yaml',
  'deploy/kubernetes/service-monitor.yaml',
  'deploy/kubernetes/scaled-object.yaml',
  'deploy/kserve/cluster-serving-runtime.yaml',
  'deploy/kserve/inference-service.yaml',
];

/** The shipped manifests, freshly parsed (tests change their copies). */
function manifests(): Manifest[] {
  return FILES.map((file) => ({ file, doc: parse(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')) as Record<string, unknown> }));
}

/** The errors after `change` edits the object of kind `kind`. */
function errorsAfter(kind: string, change: (doc: any) => void): string[] {
  const all = manifests();
  change(all.find((m) => m.doc['kind'] === kind)!.doc);
  const schema = all.flatMap(schemaErrors);
  return schema.length > 0 ? schema : consistencyErrors(all);
}

const container = (doc: any) => doc.spec.template.spec.containers[0];

describe('the deploy/ manifests', () => {
  it('validate against their schemas and fit together', () => {
    const all = manifests();
    assert.deepEqual(all.flatMap(schemaErrors), []);
    assert.deepEqual(consistencyErrors(all), []);
  });

  it('catch a value of the wrong type in Kubernetes, KEDA and prometheus-operator objects', () => {
    assert.match(errorsAfter('Deployment', (d) => (container(d).ports[0].containerPort = '8001'))[0]!, /deployment\.yaml: Deployment nereid: .*containerPort must be integer/);
    assert.match(errorsAfter('ScaledObject', (d) => delete d.spec.scaleTargetRef)[0]!, /ScaledObject nereid: .*scaleTargetRef/);
    assert.match(errorsAfter('ServiceMonitor', (d) => (d.spec.endpoints = 'metrics'))[0]!, /ServiceMonitor nereid: .*endpoints must be array/);
    assert.match(errorsAfter('PodDisruptionBudget', (d) => (d.spec.selector.matchLabels = ['x']))[0]!, /PodDisruptionBudget nereid: /);
  });

  it('catch KServe mistakes: a wrong protocol, a misspelt field, a bad container, a missing predictor, a bad name', () => {
    const runtime = (change: (spec: any) => void) => errorsAfter('ClusterServingRuntime', (d) => change(d.spec));
    assert.deepEqual(runtime((s) => (s.protocolVersions = ['grpc-v3'])), [
      "deploy/kserve/cluster-serving-runtime.yaml: ClusterServingRuntime kserve-nereid: spec.protocolVersions[0]: 'grpc-v3' is not one of v1, v2, grpc-v1, grpc-v2",
    ]);
    assert.deepEqual(runtime((s) => (s.supportedModelFormat = s.supportedModelFormats)), [
      'deploy/kserve/cluster-serving-runtime.yaml: ClusterServingRuntime kserve-nereid: spec.supportedModelFormat: unknown field',
    ]);
    assert.match(runtime((s) => (s.containers[0].ports[0].containerPort = 'h2c'))[0]!, /spec\.containers\[0\]: .*containerPort must be integer/);
    assert.match(runtime((s) => (s.containers = []))[0]!, /spec\.containers: needs at least 1 item/);
    assert.deepEqual(errorsAfter('InferenceService', (d) => delete d.spec.predictor), ['deploy/kserve/inference-service.yaml: InferenceService ocr: spec.predictor: required']);
    assert.match(errorsAfter('InferenceService', (d) => (d.metadata.name = 'OCR'))[0]!, /'OCR' is not a valid InferenceService name/);
    assert.match(errorsAfter('InferenceService', (d) => (d.spec.predictor.model.resources = { requests: { cpu: [] } }))[0]!, /spec\.predictor\.model: /);
  });

  it('catch objects that do not fit together or that Nereid would not run as meant', () => {
    assert.deepEqual(errorsAfter('Deployment', (d) => (d.spec.template.spec.terminationGracePeriodSeconds = 20)), [
      'Deployment nereid: terminationGracePeriodSeconds 20 is shorter than preStop (5 s) + --exit-timeout-secs (30 s)',
    ]);
    assert.match(errorsAfter('Deployment', (d) => container(d).args.push('--grpc-prot=1'))[0]!, /^Deployment nereid: args refused by Nereid: unknown flag --grpc-prot/);
    assert.match(errorsAfter('ClusterServingRuntime', (d) => d.spec.containers[0].args.push('--http-thread-count=8'))[0]!, /^ClusterServingRuntime kserve-nereid: args: --http-thread-count changes nothing here/);
    assert.deepEqual(errorsAfter('Deployment', (d) => (container(d).livenessProbe.grpc.service = '')), ["Deployment nereid: livenessProbe asks health service '', expected 'live'"]);
    assert.deepEqual(errorsAfter('Deployment', (d) => (container(d).readinessProbe.grpc.port = 9000)), ['Deployment nereid: readinessProbe asks port 9000, gRPC is on 8001']);
    assert.deepEqual(errorsAfter('Service', (d) => delete d.spec.ports[0].appProtocol), ['Service nereid: the grpc port needs appProtocol: grpc']);
    assert.deepEqual(errorsAfter('Service', (d) => (d.spec.selector = { app: 'other' })), ["Service nereid: selector matches no Deployment's pods"]);
    assert.deepEqual(errorsAfter('ServiceMonitor', (d) => (d.spec.endpoints[0].port = 'http-metrics')), ["ServiceMonitor nereid: no Service port named 'http-metrics'"]);
    assert.deepEqual(errorsAfter('ScaledObject', (d) => (d.spec.scaleTargetRef.name = 'triton')), ['ScaledObject nereid: scaleTargetRef names no Deployment']);
    assert.deepEqual(errorsAfter('ScaledObject', (d) => d.spec.triggers.pop()), ['ScaledObject nereid: no trigger queries nv_inference_queue_duration_us']);
    assert.deepEqual(errorsAfter('InferenceService', (d) => (d.spec.predictor.model.runtime = 'kserve-tritonserver')), ["InferenceService ocr: runtime 'kserve-tritonserver' is no ClusterServingRuntime here"]);
    assert.deepEqual(errorsAfter('InferenceService', (d) => (d.spec.predictor.model.protocolVersion = 'v1')), ['InferenceService ocr: runtime kserve-nereid does not speak v1']);
  });
});
