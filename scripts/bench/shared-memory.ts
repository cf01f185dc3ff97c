/**
 * perf_analyzer's `--shared-memory system` for the bench: the inputs of every distinct
 * request sit in one POSIX shared memory object, each output has a region of its own,
 * and the requests sent name regions instead of carrying bytes. As in perf_analyzer,
 * requests in flight share the output regions (they overwrite each other's results) and
 * the client does not read them back: this measures the server and the transport.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { ModelInferRequest, ModelInferResponse } from '../../src/generated/grpc_service.js';
import { ProtoClient } from '../lib/grpc-client.js';

const int64 = (value: number) => ({ parameterChoice: { $case: 'int64Param' as const, value: BigInt(value) } });
const shmParameters = (region: string, offset: number, byteSize: number) => ({
  shared_memory_region: { parameterChoice: { $case: 'stringParam' as const, value: region } },
  shared_memory_offset: int64(offset),
  shared_memory_byte_size: int64(byteSize),
});

/** The regions of one target, and the requests that name them. */
export interface ShmSetup {
  readonly requests: Uint8Array[];
  /** Unregisters the regions and removes the objects. */
  close(): Promise<void>;
}

/**
 * Writes the inputs of `wire` requests into shared memory, learns the outputs' sizes from
 * one real request, registers the regions with the server at `address` and returns the
 * same requests in their shared memory form.
 */
export async function shmRequests(address: string, wire: readonly Uint8Array[], tag: string): Promise<ShmSetup> {
  const messages = wire.map((bytes) => ModelInferRequest.decode(bytes));
  const client = new ProtoClient(address);
  const files: string[] = [];
  const regions: string[] = [];
  try {
    // One object for every input of every request, back to back.
    const inputs = Buffer.concat(messages.flatMap((m) => m.rawInputContents));
    const inputKey = `/nereid-bench-${process.pid}-${tag}-in`;
    writeFileSync(`/dev/shm${inputKey}`, inputs);
    files.push(`/dev/shm${inputKey}`);
    await client.call('SystemSharedMemoryRegister', { name: `${tag}_in`, key: inputKey, offset: 0, byte_size: inputs.length });
    regions.push(`${tag}_in`);
    const answer = ModelInferResponse.decode(await rawInfer(client, wire[0]!));
    const outputs = answer.outputs.map((o, i) => ({ name: o.name, byteSize: answer.rawOutputContents[i]!.byteLength }));
    for (const output of outputs) {
      const key = `/nereid-bench-${process.pid}-${tag}-${output.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      writeFileSync(`/dev/shm${key}`, Buffer.alloc(output.byteSize));
      files.push(`/dev/shm${key}`);
      await client.call('SystemSharedMemoryRegister', { name: `${tag}_${output.name}`, key, offset: 0, byte_size: output.byteSize });
      regions.push(`${tag}_${output.name}`);
    }
    let offset = 0;
    const requests = messages.map((message) => {
      const inputsWithShm = message.inputs.map((input, i) => {
        const size = message.rawInputContents[i]!.byteLength;
        const placed = { ...input, parameters: { ...input.parameters, ...shmParameters(`${tag}_in`, offset, size) } };
        offset += size;
        return placed;
      });
      return ModelInferRequest.encode({
        ...message,
        inputs: inputsWithShm,
        rawInputContents: [],
        outputs: outputs.map((o) => ({ name: o.name, parameters: shmParameters(`${tag}_${o.name}`, 0, o.byteSize) })),
      }).finish().slice();
    });
    return {
      requests,
      async close() {
        try {
          for (const region of regions) await client.call('SystemSharedMemoryUnregister', { name: region });
        } finally {
          client.close();
          for (const file of files) rmSync(file, { force: true });
        }
      },
    };
  } catch (err) {
    client.close();
    for (const file of files) rmSync(file, { force: true });
    throw err;
  }
}

/** Sends one pre-encoded ModelInfer and returns the encoded response. */
function rawInfer(client: ProtoClient, request: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    client.inference.makeUnaryRequest(
      '/inference.GRPCInferenceService/ModelInfer',
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => new Uint8Array(b),
      request,
      (err, response) => (err === null || err === undefined ? resolve(response!) : reject(err)),
    );
  });
}
