import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import type { TraceConfig } from '../../../src/config/server-config.js';
import { scratchDirectory } from '../../helpers/fixtures.js';

const REPO = ['--model-repository', '/models'];

/** The trace configuration for these variables (and flags), as the server gets it. */
function trace(env: NodeJS.ProcessEnv, flags: string[] = []): TraceConfig {
  const result = loadConfig([...REPO, ...flags], env);
  assert.equal(result.kind, 'run');
  return result.config.trace;
}

/** Start-up is refused with a ConfigError (exit status 2) whose message is exactly `message`. */
function refused(env: NodeJS.ProcessEnv, message: string | RegExp, flags: string[] = []): void {
  assert.throws(
    () => loadConfig([...REPO, ...flags], env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('standard OTEL_* variables: each works or is refused naming the variable', () => {
  it('OTEL_BSP_*: the batch span processor limits, flags winning, malformed values refused', () => {
    const env = { OTEL_BSP_SCHEDULE_DELAY: '250', OTEL_BSP_EXPORT_TIMEOUT: '4000', OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10' };
    assert.deepEqual(trace(env).batch, { scheduledDelayMillis: 250, exportTimeoutMillis: 4000, maxQueueSize: 100, maxExportBatchSize: 10 });
    assert.equal(trace(env, ['--trace-config', 'bsp_schedule_delay=5']).batch.scheduledDelayMillis, 5, 'the flag wins');
    assert.equal(trace({ OTEL_BSP_SCHEDULE_DELAY: 'abc' }, ['--trace-config', 'bsp_schedule_delay=5']).batch.scheduledDelayMillis, 5, 'a variable the flag overrides is not read');
    assert.equal(trace({ OTEL_BSP_SCHEDULE_DELAY: '' }).batch.scheduledDelayMillis, 5000, 'empty counts as unset');
    assert.equal(trace({ OTEL_BSP_SCHEDULE_DELAY: ' 0 ' }).batch.scheduledDelayMillis, 0, 'trimmed; 0 exports at once');
    refused({ OTEL_BSP_SCHEDULE_DELAY: 'abc' }, "invalid value 'abc' for OTEL_BSP_SCHEDULE_DELAY: expected an integer from 0 to 2147483647 (milliseconds)");
    refused({ OTEL_BSP_SCHEDULE_DELAY: '5s' }, /^invalid value '5s' for OTEL_BSP_SCHEDULE_DELAY/);
    refused({ OTEL_BSP_SCHEDULE_DELAY: '3000000000' }, /^invalid value '3000000000' for OTEL_BSP_SCHEDULE_DELAY/, []);
    refused({ OTEL_BSP_EXPORT_TIMEOUT: '0' }, "invalid value '0' for OTEL_BSP_EXPORT_TIMEOUT: expected an integer from 1 to 2147483647 (milliseconds)");
    refused({ OTEL_BSP_EXPORT_TIMEOUT: '-1' }, /^invalid value '-1' for OTEL_BSP_EXPORT_TIMEOUT/);
    refused({ OTEL_BSP_MAX_QUEUE_SIZE: '0' }, "invalid value '0' for OTEL_BSP_MAX_QUEUE_SIZE: expected an integer from 1 to 2147483647");
    refused({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1.5' }, /^invalid value '1.5' for OTEL_BSP_MAX_EXPORT_BATCH_SIZE/);
    refused({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096' }, 'the span export batch (OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096) is larger than the span queue (2048 by default); it must not be');
    refused(
      { OTEL_BSP_MAX_QUEUE_SIZE: '8' },
      'the span export batch (bsp_max_export_batch_size=16 in --trace-config) is larger than the span queue (OTEL_BSP_MAX_QUEUE_SIZE=8); it must not be',
      ['--trace-config', 'bsp_max_export_batch_size=16'],
    );
  });

  it('OTEL_TRACES_SAMPLER and _ARG: the OpenTelemetry sampler, with rate 1 unless --trace-config gives one', () => {
    assert.deepEqual(trace({}).sampler, { name: 'parentbased_always_on', parentBased: true, ratio: 1 }, "unset: Triton's sampling");
    assert.equal(trace({}).rate, 1000);
    const ratio = trace({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    assert.deepEqual(ratio.sampler, { name: 'parentbased_traceidratio', parentBased: true, ratio: 0.25 });
    assert.equal(ratio.rate, 1, 'the sampler alone decides');
    assert.equal(trace({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, ['--trace-config', 'rate=10']).rate, 10, 'a given rate still counts');
    assert.deepEqual(trace({ OTEL_TRACES_SAMPLER: 'traceidratio' }).sampler, { name: 'traceidratio', parentBased: false, ratio: 1 }, 'no argument: 1.0, the specification default');
    assert.deepEqual(trace({ OTEL_TRACES_SAMPLER: 'ALWAYS_OFF', OTEL_TRACES_SAMPLER_ARG: 'ignored' }).sampler, { name: 'always_off', parentBased: false, ratio: 0 }, 'case-insensitive; the argument is only read for ratios');
    assert.deepEqual(trace({ OTEL_TRACES_SAMPLER: 'always_on' }).sampler, { name: 'always_on', parentBased: false, ratio: 1 });
    assert.deepEqual(trace({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).sampler, { name: 'parentbased_always_off', parentBased: true, ratio: 0 });
    assert.deepEqual(trace({ OTEL_TRACES_SAMPLER_ARG: '0.5' }).sampler.ratio, 1, 'an argument without a sampler is ignored');
    refused({ OTEL_TRACES_SAMPLER: 'sometimes' }, /^invalid value 'sometimes' for OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, parentbased_always_on/);
    refused({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /^invalid value 'jaeger_remote' for OTEL_TRACES_SAMPLER: 'jaeger_remote' is not supported by Nereid; expected one of/);
    refused({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'abc' }, "invalid value 'abc' for OTEL_TRACES_SAMPLER_ARG: expected a sampling probability from 0 to 1 for traceidratio");
    refused({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, /^invalid value '1.5' for OTEL_TRACES_SAMPLER_ARG/);
    refused({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '-0.1' }, /^invalid value '-0.1' for OTEL_TRACES_SAMPLER_ARG/);
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT: the URL, checked; the flag wins', () => {
    assert.equal(trace({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318' }).exporter.url, 'https://collector:4318/v1/traces', 'general: /v1/traces appended');
    assert.equal(trace({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9/custom' }).exporter.url, 'http://t:9/custom', 'traces: as is, and first');
    assert.equal(trace({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, ['--trace-config', 'url=http://x:1/v1/traces']).exporter.url, 'http://x:1/v1/traces');
    refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, "invalid value 'collector:4318' for OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL");
    refused({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, "invalid value 'not a url' for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http:// or https:// URL");
    refused({}, "--trace-config: invalid value 'localhost:4318' for url: expected an http:// or https:// URL", ['--trace-config', 'url=localhost:4318']);
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: grpc, http/protobuf or http/json', () => {
    assert.equal(trace({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON' }).exporter.protocol, 'http/json');
    assert.deepEqual(trace({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).exporter.protocol, 'grpc');
    refused({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, "invalid value 'thrift' for OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: expected grpc, http/protobuf or http/json");
    refused({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, "invalid value 'collector:4317' for OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL");
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: percent-decoded, the traces ones winning per key; bad ones refused without echoing secrets', () => {
    const env = { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, tenant=a', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'tenant=b' };
    assert.deepEqual(trace(env).exporter.headers, { 'x-api-key': 'abc==', tenant: 'b' });
    assert.deepEqual(trace({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer secret==' }).exporter.headers, { authorization: 'Bearer secret==' });
    refused({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-token' }, 'invalid value for OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs separated by commas');
    refused({ OTEL_EXPORTER_OTLP_HEADERS: 'k=%zz' }, "invalid value for OTEL_EXPORTER_OTLP_HEADERS: the value of 'k' is not valid percent-encoding");
    refused({ OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'k=a%0Ab' }, "invalid value for OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'k' is not a valid HTTP header name, or its value holds control characters");
    refused({ OTEL_EXPORTER_OTLP_HEADERS: 'bad key=1' }, /^invalid value for OTEL_EXPORTER_OTLP_HEADERS: 'bad key' is not a valid HTTP header name/);
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT and _COMPRESSION', () => {
    assert.equal(trace({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).exporter.timeoutMillis, 2500);
    assert.equal(trace({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700' }).exporter.timeoutMillis, 700);
    refused({ OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, "invalid value '10s' for OTEL_EXPORTER_OTLP_TIMEOUT: expected an integer from 1 to 2147483647 (milliseconds)");
    refused({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' }, /^invalid value '0' for OTEL_EXPORTER_OTLP_TRACES_TIMEOUT/);
    assert.equal(trace({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' }).exporter.compression, 'gzip');
    assert.equal(trace({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' }).exporter.compression, 'none');
    refused({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, "invalid value 'zstd' for OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none");
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY: readable files', () => {
    const dir = scratchDirectory('otel-tls');
    const ca = path.join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const config = trace({ OTEL_EXPORTER_OTLP_CERTIFICATE: ca, OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: ca, OTEL_EXPORTER_OTLP_CLIENT_KEY: ca });
    assert.deepEqual([config.exporter.certificate, config.exporter.clientCertificate, config.exporter.clientKey], [ca, ca, ca]);
    const missing = path.join(dir, 'missing.pem');
    refused({ OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: missing }, `cannot read '${missing}', named by OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: ENOENT`);
  });

  it('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the resource, the service name winning, resource= winning over both', () => {
    const env = { OTEL_SERVICE_NAME: 'ocr', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other,team=vision%20ai, region = eu ' };
    assert.deepEqual(trace(env).resource, { 'service.name': 'ocr', team: 'vision ai', region: 'eu' });
    assert.deepEqual(trace({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).resource, { 'service.name': 'other' });
    assert.equal(trace(env, ['--trace-config', 'resource=service.name=flag']).resource['service.name'], 'flag');
    refused({ OTEL_RESOURCE_ATTRIBUTES: 'team' }, "invalid value 'team' for OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got 'team'");
    refused({ OTEL_RESOURCE_ATTRIBUTES: 'team=%E0%A4%A' }, "invalid value 'team=%E0%A4%A' for OTEL_RESOURCE_ATTRIBUTES: the value of 'team' is not valid percent-encoding");
  });

  it('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER: tracing switched off, or refused', () => {
    assert.equal(trace({ OTEL_SDK_DISABLED: 'TRUE' }).disabledBy, 'OTEL_SDK_DISABLED=true');
    assert.equal(trace({ OTEL_SDK_DISABLED: 'false' }).disabledBy, undefined);
    refused({ OTEL_SDK_DISABLED: 'yes' }, "invalid value 'yes' for OTEL_SDK_DISABLED: expected true or false");
    assert.equal(trace({ OTEL_TRACES_EXPORTER: 'otlp' }).disabledBy, undefined);
    assert.equal(trace({ OTEL_TRACES_EXPORTER: 'none' }).disabledBy, 'OTEL_TRACES_EXPORTER=none');
    refused({ OTEL_TRACES_EXPORTER: 'console' }, "invalid value 'console' for OTEL_TRACES_EXPORTER: 'console' is not supported (it would write spans into the log lines on stdout); expected otlp or none");
    refused({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' }, "invalid value 'otlp,zipkin' for OTEL_TRACES_EXPORTER: 'zipkin' is not supported (Nereid exports spans over OTLP only); expected otlp or none");
    refused({ OTEL_TRACES_EXPORTER: 'none,otlp' }, "invalid value 'none,otlp' for OTEL_TRACES_EXPORTER: none cannot be combined with otlp");
  });

  it('OTEL_PROPAGATORS: W3C trace context, or none', () => {
    assert.equal(trace({}).propagate, true);
    assert.equal(trace({ OTEL_PROPAGATORS: 'tracecontext,baggage' }).propagate, true);
    assert.equal(trace({ OTEL_PROPAGATORS: 'none' }).propagate, false);
    assert.equal(trace({ OTEL_PROPAGATORS: 'baggage' }).propagate, false, 'no tracecontext: callers are not continued');
    refused({ OTEL_PROPAGATORS: 'tracecontext,b3' }, "invalid value 'tracecontext,b3' for OTEL_PROPAGATORS: 'b3' is not supported; Nereid reads the W3C trace context (tracecontext), or none");
  });

  it('span limits: OTEL_SPAN_* over OTEL_ATTRIBUTE_*, then OpenTelemetry defaults', () => {
    const limits = trace({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '20', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64', OTEL_SPAN_LINK_COUNT_LIMIT: '5' }).limits;
    assert.deepEqual(limits, { attributeCountLimit: 20, attributeValueLengthLimit: 64, linkCountLimit: 5, eventCountLimit: 128, attributePerEventCountLimit: 128, attributePerLinkCountLimit: 128 });
    refused({ OTEL_SPAN_LINK_COUNT_LIMIT: 'many' }, "invalid value 'many' for OTEL_SPAN_LINK_COUNT_LIMIT: expected an integer from 0 to 2147483647");
  });

  it('a bad value from NEREID_TRACE_CONFIG names that variable; an OTEL_* error names only its own', () => {
    refused({ NEREID_TRACE_CONFIG: 'rate=x' }, "NEREID_TRACE_CONFIG (--trace-config): invalid value 'x' for rate: expected an integer from 0 to 2147483647");
    refused({ NEREID_TRACE_CONFIG: 'rate=1', OTEL_BSP_MAX_QUEUE_SIZE: 'x' }, /^invalid value 'x' for OTEL_BSP_MAX_QUEUE_SIZE/);
  });
});
