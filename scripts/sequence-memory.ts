/**
 * npx tsx --expose-gc scripts/sequence-memory.ts [sequences]
 *
 * What one live sequence costs the server: starts Nereid in this process on the example
 * repository, opens N sequences on the implicit-state accumulator
 * (simple_string_dyna_sequence: INT32 [1] state) over one stream, and compares the
 * process's heap and array buffers before and after (with garbage collection forced), and
 * with what `nereid_sequence_state_bytes` reports. Then ends them all and checks the
 * state is gone, and runs a second round to see whether what remains grows. N must not
 * exceed the model's slots (2 instances x 1024 candidates): more would wait in the backlog
 * until the first ones go idle (10 s). Prints one markdown table.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load-config.js';
import { NereidServer } from '../src/server.js';
import { createLogging } from '../src/telemetry/logger.js';
import { ProtoClient } from './lib/grpc-client.js';

const count = Number(process.argv[2] ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (npx tsx --expose-gc scripts/sequence-memory.ts)');
const repository = fileURLToPath(new URL('../models/', import.meta.url));
const command = loadConfig(['--model-repository', repository, '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0', '--grpc-address', '127.0.0.1', '--metrics-address', '127.0.0.1'], {});
if (command.kind !== 'run') throw new Error('unexpected command');
const { logger, settings } = createLogging({ level: 'silent', format: 'json' });
const server = await NereidServer.start(command.config, { logger, logControl: settings });
const client = new ProtoClient(`127.0.0.1:${server.port}`);
const model = 'simple_string_dyna_sequence';
const servable = server.registry.get(model, '').servable;

/** Sends one request per sequence (start or end) on one stream and waits for every answer. */
async function round(start: boolean, end: boolean): Promise<void> {
  const stream = (client.inference as unknown as { ModelStreamInfer(): import('@grpc/grpc-js').ClientDuplexStream<object, { error_message: string }> }).ModelStreamInfer();
  const done = new Promise<void>((resolve, reject) => {
    let answered = 0;
    stream.on('data', (response) => {
      if (response.error_message !== '') reject(new Error(response.error_message));
      if (++answered === count) resolve();
    });
    stream.on('error', reject);
  });
  for (let i = 1; i <= count; i++) {
    stream.write({
      model_name: model,
      inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1] }],
      raw_input_contents: [Buffer.from(Int32Array.of(i).buffer)],
      parameters: { sequence_id: { string_param: String(i) }, sequence_start: { bool_param: start }, sequence_end: { bool_param: end } },
    });
  }
  await done;
  stream.end();
}

function measure(): number {
  for (let i = 0; i < 3; i++) gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

await round(true, false); // warm: every code path and pool reached once
await round(false, true);
const before = measure();
await round(true, false);
const live = servable.sequences()!;
const during = measure();
await round(false, true);
const ended = servable.sequences()!;
const after = measure();
await round(true, false);
await round(false, true);
const again = measure();
client.close();
await server.stop();
const perSequence = (during - before) / count;
process.stdout.write(
  `| sequences | state bytes (metric) | state per sequence | process memory per live sequence | after END: sequences, state bytes, memory per sequence | after a second round |\n` +
    `| --- | --- | --- | --- | --- | --- |\n` +
    `| ${live.active} | ${live.stateBytes} | ${live.stateBytes / count} B | ${perSequence.toFixed(0)} B | ${ended.active}, ${ended.stateBytes}, ${((after - before) / count).toFixed(0)} B | ${((again - before) / count).toFixed(0)} B |\n`,
);
