import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, testRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bytesTensor, float32Bytes, int32Bytes, int64Bytes, readBytesTensor, readInt32 } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';

const A = Array.from({ length: 16 }, (_, i) => i);
const B = A.map(() => 1);
const SUM = A.map((a, i) => a + B[i]!);
const DIFF = A.map((a, i) => a - B[i]!);

/** POSIX shared memory objects made for the test (what shm_open + ftruncate would make), removed at the end. */
const made: string[] = [];
function shmObject(name: string, bytes: Buffer | number): string {
  const key = `/nereid-test-${process.pid}-${name}`;
  writeFileSync(`/dev/shm${key}`, typeof bytes === 'number' ? Buffer.alloc(bytes) : bytes);
  made.push(`/dev/shm${key}`);
  return key;
}
const read = (key: string) => readFileSync(`/dev/shm${key}`);

const shm = (region: string, byteSize: number, offset?: number) => ({
  shared_memory_region: { string_param: region },
  shared_memory_byte_size: { int64_param: byteSize },
  ...(offset !== undefined ? { shared_memory_offset: { int64_param: offset } } : {}),
});

function simpleRequest(inputs: [Record<string, unknown>, Record<string, unknown>], outputs?: [Record<string, unknown>, Record<string, unknown>], raw: Buffer[] = []) {
  return {
    model_name: 'simple',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: inputs[0] },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: inputs[1] },
    ],
    outputs: outputs === undefined ? [] : [
      { name: 'OUTPUT0', parameters: outputs[0] },
      { name: 'OUTPUT1', parameters: outputs[1] },
    ],
    raw_input_contents: raw,
  };
}

describe('system shared memory', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY, await testRepository()], { flags: ['--allow-client-shm'] });
  });
  after(async () => {
    await t.stop();
    for (const file of made) rmSync(file, { force: true });
  });

  const register = (name: string, key: string, byteSize: number, offset = 0) => t.client.call('SystemSharedMemoryRegister', { name, key, offset, byte_size: byteSize });
  const healthy = async () => {
    const answer = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest([{}, {}], undefined, [int32Bytes(A), int32Bytes(B)]));
    assert.deepEqual(readInt32(answer.raw_output_contents[0]!), SUM);
  };

  it('INT32 inputs and outputs through regions, at offsets; the response carries no bytes for them', async () => {
    const input = shmObject('in', Buffer.concat([Buffer.alloc(8), int32Bytes(A), int32Bytes(B)]));
    const output = shmObject('out', 8 + 128);
    await register('input_data', input, 128, 8);
    await register('output_data', output, 128, 8);
    const answer = await t.client.call<{ outputs: { name: string; datatype: string; shape: number[] }[]; raw_output_contents: Buffer[] }>(
      'ModelInfer',
      simpleRequest([shm('input_data', 64), shm('input_data', 64, 64)], [shm('output_data', 64), shm('output_data', 64, 64)]),
    );
    assert.deepEqual(answer.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['OUTPUT0', 'INT32', [1, 16]],
      ['OUTPUT1', 'INT32', [1, 16]],
    ]);
    assert.deepEqual(answer.raw_output_contents.map((b) => b.length), [0, 0]);
    const written = read(output);
    assert.deepEqual(readInt32(written.subarray(8, 72)), SUM);
    assert.deepEqual(readInt32(written.subarray(72, 136)), DIFF);
    const { regions } = await t.client.call<{ regions: Record<string, unknown> }>('SystemSharedMemoryStatus', {});
    assert.deepEqual(regions['input_data'], { name: 'input_data', key: input, offset: 8, byte_size: 128 });
    assert.deepEqual(Object.keys(regions).sort(), ['input_data', 'output_data']);
    assert.deepEqual(await t.client.call('SystemSharedMemoryStatus', { name: 'output_data' }), { regions: { output_data: { name: 'output_data', key: output, offset: 8, byte_size: 128 } } });
  });

  it('mixes shared memory and raw contents: raw_input_contents pairs with inputs that have neither', async () => {
    const answer = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest([{}, shm('input_data', 64, 64)], [{}, shm('output_data', 64)], [int32Bytes(A)]));
    assert.deepEqual(readInt32(answer.raw_output_contents[0]!), SUM);
    assert.equal(answer.raw_output_contents[1]!.length, 0);
  });

  it('BYTES inputs and outputs in Triton\'s serialized form', async () => {
    const in0 = bytesTensor(A.map(String));
    const in1 = bytesTensor(B.map(String));
    const sum = bytesTensor(SUM.map(String));
    const keys = [shmObject('s-in0', in0), shmObject('s-in1', in1), shmObject('s-out0', sum.length), shmObject('s-out1', sum.length)];
    const names = ['s_in0', 's_in1', 's_out0', 's_out1'];
    for (let i = 0; i < 4; i++) await register(names[i]!, keys[i]!, i === 0 ? in0.length : i === 1 ? in1.length : sum.length);
    const answer = await t.client.call<{ outputs: { datatype: string }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'simple_string',
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], parameters: shm('s_in0', in0.length) },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], parameters: shm('s_in1', in1.length) },
      ],
      outputs: [
        { name: 'OUTPUT0', parameters: shm('s_out0', sum.length) },
        { name: 'OUTPUT1', parameters: shm('s_out1', sum.length) },
      ],
    });
    assert.deepEqual(answer.outputs.map((o) => o.datatype), ['BYTES', 'BYTES']);
    assert.deepEqual(readBytesTensor(read(keys[2]!)).map(String), SUM.map(String));
    const diff = bytesTensor(DIFF.map(String));
    assert.deepEqual(read(keys[3]!).subarray(0, diff.length), diff);
    await t.client.call('SystemSharedMemoryUnregister', { name: 's_in0' });
    assert.deepEqual(Object.keys((await t.client.call<{ regions: object }>('SystemSharedMemoryStatus', {})).regions).sort(), ['input_data', 'output_data', 's_in1', 's_out0', 's_out1']);
  });

  it('refuses bad keys and registrations with clear errors', async () => {
    const key = shmObject('small', 64);
    const linked = `/nereid-test-${process.pid}-link`;
    symlinkSync('/etc/hostname', `/dev/shm${linked}`);
    made.push(`/dev/shm${linked}`);
    const invalid = status.INVALID_ARGUMENT;
    const shape = "a POSIX shared memory key is '/' followed by a name without '/' (such as '/input_simple')";
    const cases: [() => Promise<unknown>, status, string | RegExp][] = [
      [() => register('input_data', key, 64), status.ALREADY_EXISTS, "shared memory region 'input_data' already in manager"],
      [() => register('r', 'no_slash', 8), invalid, `Unable to open shared memory region: 'no_slash': ${shape}`],
      [() => register('r', '/etc/passwd', 8), invalid, `Unable to open shared memory region: '/etc/passwd': ${shape}`],
      [() => register('r', '/..', 8), invalid, `Unable to open shared memory region: '/..': ${shape}`],
      [() => register('r', '/', 8), invalid, `Unable to open shared memory region: '/': ${shape}`],
      [() => register('r', `/${'k'.repeat(256)}`, 8), invalid, /^Unable to open shared memory region: '\/k+…' \(257 characters\): the name is longer than 255 bytes$/],
      [() => register('r', '/nereid-no-such-object', 8), invalid, "Unable to open shared memory region: '/nereid-no-such-object' (ENOENT)"],
      [() => register('r', linked, 8), invalid, `Unable to open shared memory region: '${linked}' (ELOOP)`],
      [() => register('r', key, 60, 8), invalid, `failed to register shared memory region 'r': invalid args (offset 8 + byte_size 60 is past the end of '${key}' (64 bytes))`],
      [() => register('r', key, 0), invalid, "failed to register shared memory region 'r': invalid args (byte_size must be above 0)"],
      [() => register('', key, 8), invalid, "failed to register shared memory region '': invalid args (the region needs a name)"],
      [() => t.client.call('SystemSharedMemoryStatus', { name: 'nope' }), status.NOT_FOUND, "Unable to find system shared memory region: 'nope'"],
    ];
    for (const [call, code, message] of cases) await assertGrpcError(call(), code, message);
    await healthy();
  });

  it('checks every offset and size of a request against the region, and the object\'s real size', async () => {
    const infer = (inputs: [Record<string, unknown>, Record<string, unknown>], outputs?: [Record<string, unknown>, Record<string, unknown>], raw?: Buffer[]) => () =>
      t.client.call('ModelInfer', simpleRequest(inputs, outputs, raw));
    const invalid = status.INVALID_ARGUMENT;
    const cases: [() => Promise<unknown>, status, string | RegExp][] = [
      [infer([shm('nope', 64), {}], undefined, [int32Bytes(B)]), status.NOT_FOUND, "Unable to find shared memory region: 'nope'"],
      [infer([shm('input_data', 64, 128), {}], undefined, [int32Bytes(B)]), invalid, "Invalid offset for shared memory region: 'input_data'"],
      [infer([shm('input_data', 64, 100), {}], undefined, [int32Bytes(B)]), invalid, "Invalid offset + byte size for shared memory region: 'input_data'"],
      [infer([shm('input_data', 64, -8), {}], undefined, [int32Bytes(B)]), invalid, "Invalid offset for shared memory region: 'input_data'"],
      [infer([shm('input_data', 129), {}], undefined, [int32Bytes(B)]), invalid, "Invalid offset + byte size for shared memory region: 'input_data'"],
      [infer([{ shared_memory_region: { string_param: 'input_data' } }, {}], undefined, [int32Bytes(B)]), invalid, "'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor 'INPUT0'"],
      [infer([{ shared_memory_byte_size: { int64_param: 64 } }, {}], undefined, [int32Bytes(A), int32Bytes(B)]), invalid, "'shared_memory_byte_size' can not be specified without 'shared_memory_region' parameter for tensor 'INPUT0'"],
      [infer([{ shared_memory_offset: { int64_param: 0 } }, {}], undefined, [int32Bytes(A), int32Bytes(B)]), invalid, "'shared_memory_offset' can not be specified without 'shared_memory_region' parameter for tensor 'INPUT0'"],
      [infer([{ shared_memory_region: { int64_param: 1 }, shared_memory_byte_size: { int64_param: 64 } }, {}], undefined, [int32Bytes(B)]), invalid, "invalid value type for 'shared_memory_region' parameter for tensor 'INPUT0', expected string_param."],
      [infer([{ shared_memory_region: { string_param: 'input_data' }, shared_memory_byte_size: { string_param: '64' } }, {}], undefined, [int32Bytes(B)]), invalid, "invalid value type for 'shared_memory_byte_size' parameter for tensor 'INPUT0', expected int64_param."],
      [infer([shm('input_data', 60), {}], undefined, [int32Bytes(B)]), invalid, "[request id: <id_unknown>] input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 60"],
      [infer([shm('input_data', 64), shm('input_data', 64, 64)], [shm('output_data', 32), {}]), invalid, "shared memory size specified with the request for output 'OUTPUT0' (32 bytes) should be at least 64 bytes to hold the results"],
      [infer([shm('input_data', 64), shm('input_data', 64, 64)], [shm('output_data', 64, 127), {}]), invalid, "Invalid offset + byte size for shared memory region: 'output_data'"],
      [infer([shm('input_data', 64), shm('nope', 64)], [{}, {}]), status.NOT_FOUND, "Unable to find shared memory region: 'nope'"],
    ];
    for (const [call, code, message] of cases) await assertGrpcError(call(), code, message);
    const contents = () =>
      t.client.call('ModelInfer', {
        model_name: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: shm('input_data', 64), contents: { int_contents: A } },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: B } },
        ],
      });
    await assertGrpcError(contents(), invalid, "unexpected 'content' provided when using shared memory for input tensor 'INPUT0' for model 'simple'");
    // A client that shrinks its object after registering gets an error, not a crash.
    const key = shmObject('shrinking', 256);
    await register('shrinking', key, 256);
    truncateSync(`/dev/shm${key}`, 16);
    await assertGrpcError(infer([shm('shrinking', 64), {}], undefined, [int32Bytes(B)])(), invalid, `shared memory region 'shrinking' is smaller than registered: '${key}' was truncated`);
    await assertGrpcError(infer([shm('input_data', 64), shm('input_data', 64, 64)], [shm('shrinking', 64, 64), {}])(), invalid, `shared memory region 'shrinking' is smaller than registered: '${key}' was truncated`);
    await healthy();
  });

  it('unregistering a region that a request in flight writes to is safe: the request completes into it', async () => {
    const key = shmObject('slow-out', 64);
    await register('slow_out', key, 64);
    const values = Array.from({ length: 16 }, (_, i) => i / 4);
    const call = t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'slow',
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
        { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
      ],
      outputs: [{ name: 'OUTPUT0', parameters: shm('slow_out', 64) }],
      raw_input_contents: [float32Bytes(values), int64Bytes([3000])],
    });
    await waitUntil(() => t.server.registry.readyModels().some((m) => m.info.name === 'slow' && m.servable.accepted() === 1), 'the slow request is accepted');
    await t.client.call('SystemSharedMemoryUnregister', { name: 'slow_out' });
    await assertGrpcError(t.client.call('SystemSharedMemoryStatus', { name: 'slow_out' }), status.NOT_FOUND, "Unable to find system shared memory region: 'slow_out'");
    const answer = await call;
    assert.equal(answer.raw_output_contents[0]!.length, 0);
    assert.deepEqual(read(key), float32Bytes(values));
  });

  it('two clients with separate regions get their own answers', async () => {
    const clients = [t.client, new ProtoClient(t.client.target)];
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          const inKey = shmObject(`c${c}-in`, 128);
          const outKey = shmObject(`c${c}-out`, 128);
          await client.call('SystemSharedMemoryRegister', { name: `c${c}_in`, key: inKey, byte_size: 128 });
          await client.call('SystemSharedMemoryRegister', { name: `c${c}_out`, key: outKey, byte_size: 128 });
          for (let round = 0; round < 20; round++) {
            const a = A.map((x) => x * (c + 1) + round);
            writeFileSync(`/dev/shm${inKey}`, Buffer.concat([int32Bytes(a), int32Bytes(B)]));
            await client.call('ModelInfer', simpleRequest([shm(`c${c}_in`, 64), shm(`c${c}_in`, 64, 64)], [shm(`c${c}_out`, 64), shm(`c${c}_out`, 64, 64)]));
            assert.deepEqual(readInt32(read(outKey).subarray(0, 64)), a.map((x, i) => x + B[i]!));
          }
        }),
      );
    } finally {
      clients[1]!.close();
    }
  });

  it('CUDA shared memory: empty status, unregister succeeds, register says why it cannot', async () => {
    assert.deepEqual(await t.client.call('CudaSharedMemoryStatus', {}), { regions: {} });
    await t.client.call('CudaSharedMemoryUnregister', {});
    await t.client.call('CudaSharedMemoryUnregister', { name: 'x' });
    await assertGrpcError(t.client.call('CudaSharedMemoryStatus', { name: 'x' }), status.NOT_FOUND, "Unable to find cuda shared memory region: 'x'");
    await assertGrpcError(
      t.client.call('CudaSharedMemoryRegister', { name: 'gpu', raw_handle: Buffer.alloc(64), device_id: 0, byte_size: 64 }),
      status.INVALID_ARGUMENT,
      "failed to register CUDA shared memory region: 'gpu', GPUs not supported (Nereid runs GPU models through ONNX Runtime and cannot open CUDA IPC handles; use system shared memory)",
    );
  });

  it('unregisters every region at once', async () => {
    await t.client.call('SystemSharedMemoryUnregister', {});
    assert.deepEqual(await t.client.call('SystemSharedMemoryStatus', {}), { regions: {} });
    assert.equal(t.server.sharedMemory.size, 0);
    await healthy();
  });
});

describe('system shared memory without --allow-client-shm', () => {
  it('refuses to register, as Triton does by default; status and unregister still answer', async () => {
    const t = await startTestServer([EXAMPLE_REPOSITORY]);
    try {
      const key = shmObject('disabled', 64);
      await assertGrpcError(
        t.client.call('SystemSharedMemoryRegister', { name: 'r', key, byte_size: 64 }),
        status.UNIMPLEMENTED,
        "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.",
      );
      assert.deepEqual(await t.client.call('SystemSharedMemoryStatus', {}), { regions: {} });
      await t.client.call('SystemSharedMemoryUnregister', {});
      await assertGrpcError(t.client.call('ModelInfer', simpleRequest([shm('r', 64), {}], undefined, [int32Bytes(B)])), status.NOT_FOUND, "Unable to find shared memory region: 'r'");
    } finally {
      await t.stop();
      for (const file of made) rmSync(file, { force: true });
    }
  });
});
