/** Starts the real server on a loopback port 0 with a real gRPC client, for integration tests. */
import { tracing } from '@opentelemetry/sdk-node';
import { loadConfig } from '../../src/config/load-config.js';
import type { ServerConfig } from '../../src/config/server-config.js';
import type { DeviceInventory } from '../../src/core/execution.js';
import { NereidServer } from '../../src/server.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';

export interface TestServer {
  readonly server: NereidServer;
  readonly client: ProtoClient;
  /** Every span the server finished, exported at once (tests use an in-memory exporter). */
  readonly spans: tracing.InMemorySpanExporter;
  /** Stops client and server, and checks that no call was left open. */
  stop(): Promise<void>;
}

/** A ServerConfig from flags, with loopback addresses and port 0 already set. */
export function testConfig(repositories: readonly string[], flags: readonly string[] = []): ServerConfig {
  // Many tests serve repositories where some models fail on purpose: serve the rest, unless a test asks otherwise.
  const argv = ['--grpc-address', '127.0.0.1', '--grpc-port', '0', '--http-address', '127.0.0.1', '--http-port', '0', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--exit-timeout-secs', '5', '--exit-on-error=false', ...flags];
  for (const repository of repositories) argv.push('--model-repository', repository);
  const command = loadConfig(argv, {});
  if (command.kind !== 'run') throw new Error('unexpected command');
  return command.config;
}

/** Logger and log control for a test server: silent unless NEREID_TEST_LOG names a level. */
export function testLogging() {
  return createLogging({ level: (process.env['NEREID_TEST_LOG'] as 'debug' | undefined) ?? 'silent', format: 'json' });
}

export async function startTestServer(
  repositories: readonly string[],
  options: { flags?: readonly string[]; devices?: DeviceInventory; logging?: ReturnType<typeof createLogging> } = {},
): Promise<TestServer> {
  const { logger, settings } = options.logging ?? testLogging();
  const spans = new tracing.InMemorySpanExporter();
  const server = await NereidServer.start(testConfig(repositories, options.flags), {
    logger,
    logControl: settings,
    spanExporter: spans,
    ...(options.devices !== undefined ? { devices: options.devices } : {}),
  });
  const client = new ProtoClient(`127.0.0.1:${server.port}`);
  return {
    server,
    client,
    spans,
    async stop() {
      client.close();
      await server.stop();
      if (!server.drainedGracefully) throw new Error('server shutdown had to cancel calls that were still open');
    },
  };
}
