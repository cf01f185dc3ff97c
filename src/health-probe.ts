#!/usr/bin/env node
/**
 * A health probe for a Nereid on this machine: asks its grpc.health.v1 service once and
 * exits 0 when the answer is SERVING, 1 otherwise (refused, NOT_SERVING, no answer in time),
 * printing why. The image's HEALTHCHECK runs it; Kubernetes' own gRPC probes need nothing
 * from the image, but cannot speak TLS, so an exec probe runs this instead when the endpoint
 * serves TLS.
 *
 * Usage: node dist/health-probe.js [--service live|""|<model>] [--port 8001] [--timeout-ms 3000]
 *          [--tls [--ca <pem>] [--cert <pem> --key <pem>] [--server-name <name>]]
 * The port defaults to NEREID_GRPC_PORT, else 8001; the service to `live`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { HealthClient, HealthCheckResponse_ServingStatus as Status } from './generated/health.js';

function channelCredentials(values: Record<string, string | boolean | undefined>): ChannelCredentials {
  if (values['tls'] !== true) return credentials.createInsecure();
  const pem = (name: string) => (typeof values[name] === 'string' ? readFileSync(values[name] as string) : null);
  return credentials.createSsl(pem('ca'), pem('key'), pem('cert'));
}

function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string', default: 'live' },
      port: { type: 'string', default: process.env['NEREID_GRPC_PORT'] ?? '8001' },
      'timeout-ms': { type: 'string', default: '3000' },
      tls: { type: 'boolean', default: false },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'server-name': { type: 'string' },
    },
  });
  const serverName = values['server-name'];
  const client = new HealthClient(`127.0.0.1:${values.port}`, channelCredentials(values), serverName === undefined ? {} : { 'grpc.ssl_target_name_override': serverName });
  return new Promise((resolve) => {
    client.check({ service: values.service }, new Metadata(), { deadline: Date.now() + Number(values['timeout-ms']) }, (err, response) => {
      client.close();
      if (err !== null) {
        process.stderr.write(`unhealthy: ${err.message}\n`);
        resolve(1);
      } else if (response.status !== Status.SERVING) {
        process.stderr.write(`unhealthy: service '${values.service}' is ${Status[response.status]}\n`);
        resolve(1);
      } else {
        resolve(0);
      }
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`unhealthy: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
