#!/usr/bin/env node
/**
 * Command-line entry: nereid --model-repository models --grpc-port 8001.
 * Exit status: 0 after a clean shutdown, 1 when start-up fails, 2 for a bad flag.
 */
import { ConfigError, loadConfig } from './config/load-config.js';
import { usage } from './config/usage.js';
import { applyHeapGrowth } from './heap-growth.js';
import { NereidServer, SERVER_VERSION, StartupError } from './server.js';
import { createLogging } from './telemetry/logger.js';

async function main(): Promise<number> {
  let command;
  try {
    command = loadConfig(process.argv.slice(2), process.env, process.stdout.isTTY === true);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`nereid: ${err.message}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return 0;
  }
  const { config } = command;
  let logging;
  try {
    logging = createLogging(config.log);
  } catch (err) {
    process.stderr.write(`nereid: cannot write the log to --log-file ${config.log.file}: ${(err as Error).message}\n`);
    return 2;
  }
  const { logger, settings: logControl } = logging;
  for (const warning of command.warnings) logger.warn({ flag: warning.flag }, warning.message);
  const heapGrowth = applyHeapGrowth(process.execArgv);
  logger.debug(heapGrowth, heapGrowth.source === 'nereid' ? 'v8 heap growing percent set' : 'v8 heap growing percent left to the operator');
  // Listen before start-up: readiness can be answered (and a SIGTERM sent) before start()
  // returns, and Node's default would end the process with no graceful stop. A signal during
  // start-up stops the server as soon as it has started; a second signal ends the process at once.
  let received: string | undefined;
  let onSignal = (signal: string) => void (received ??= signal);
  const listen = (signal: 'SIGTERM' | 'SIGINT') => process.once(signal, () => onSignal(signal));
  listen('SIGTERM');
  listen('SIGINT');
  let server: NereidServer;
  try {
    server = await NereidServer.start(config, { logger, logControl });
  } catch (err) {
    logger.error({ err: (err as Error).message }, err instanceof StartupError ? 'start-up failed' : 'unexpected start-up failure');
    return 1;
  }
  return new Promise<number>((resolve) => {
    onSignal = (signal: string) => {
      logger.info({ signal }, 'signal received');
      server.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    if (received !== undefined) onSignal(received);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nereid: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
