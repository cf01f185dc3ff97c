import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ERROR_CATALOG, InferError, type ErrorCode, type ErrorId } from '../../../../src/core/errors.js';
import { grpcCode, MAX_STATUS_MESSAGE_BYTES, statusMessage, toServiceError } from '../../../../src/transport/grpc/status.js';

describe('grpcCode', () => {
  it('maps every category to the gRPC status of the same name', () => {
    for (const id of Object.keys(ERROR_CATALOG) as ErrorId[]) {
      const code: ErrorCode = ERROR_CATALOG[id].code;
      assert.equal(grpcCode(code), status[code], `${id} (${code})`);
    }
    assert.equal(grpcCode('ALREADY_EXISTS'), status.ALREADY_EXISTS);
  });
});

describe('toServiceError', () => {
  it('keeps the message and sends the id in the nereid-error-id trailer', () => {
    const err = toServiceError(new InferError('MODEL_NOT_FOUND', "Request for unknown model: 'x' is not found"));
    assert.equal(err.code, status.NOT_FOUND);
    assert.equal(err.details, "Request for unknown model: 'x' is not found");
    assert.deepEqual(err.metadata?.get('nereid-error-id'), ['MODEL_NOT_FOUND']);
  });

  it('reports anything else as INTERNAL', () => {
    const err = toServiceError(new Error('oops'));
    assert.equal(err.code, status.INTERNAL);
    assert.equal(err.details, 'oops');
    assert.deepEqual(err.metadata?.get('nereid-error-id'), ['INTERNAL']);
  });
});

/** Bytes of the grpc-message trailer value: grpc-js percent-encodes details with encodeURI. */
const wireBytes = (details: string) => Buffer.byteLength(encodeURI(details));

describe('statusMessage: the bound on grpc-message', () => {
  it('leaves a message within the bound unchanged', () => {
    const message = "[request id: r7] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'";
    assert.equal(statusMessage(message), message);
    const exact = 'x'.repeat(MAX_STATUS_MESSAGE_BYTES);
    assert.equal(statusMessage(exact), exact);
  });

  it('cuts a longer message to the bound, says so, and keeps its start', () => {
    for (const [name, message] of [
      ['ascii', 'a'.repeat(76_000)],
      ['spaces (3 bytes each once encoded)', ' '.repeat(10_000)],
      ['two-byte UTF-8', 'é'.repeat(30_000)],
      ['three-byte UTF-8', '語'.repeat(30_000)],
      ['surrogate pairs', '😀'.repeat(30_000)],
      ['mixed', 'a é語😀%"'.repeat(10_000)],
    ] as const) {
      const cut = statusMessage(message);
      const chars = [...message].length;
      assert.ok(wireBytes(cut) <= MAX_STATUS_MESSAGE_BYTES, `${name}: ${wireBytes(cut)} bytes on the wire`);
      assert.ok(wireBytes(cut) > MAX_STATUS_MESSAGE_BYTES - 64, `${name}: uses the room it has (${wireBytes(cut)} bytes)`);
      assert.ok(cut.endsWith(`… (message cut; it had ${chars} characters)`), `${name}: ${cut.slice(-60)}`);
      assert.ok(message.startsWith(cut.slice(0, cut.indexOf('… (message cut'))), `${name}: keeps the start`);
    }
  });

  it('counts encoded bytes as encodeURI does for every ASCII character', () => {
    for (let code = 0; code < 0x80; code++) {
      const char = String.fromCharCode(code);
      const bound = 200;
      // A message of that character alone, one byte over the bound in characters.
      const cut = statusMessage(char.repeat(bound + 1), bound);
      assert.ok(wireBytes(cut) <= bound, `U+${code.toString(16)}: ${wireBytes(cut)} > ${bound}`);
    }
  });

  it('replaces lone surrogates, which grpc-js could not encode', () => {
    const cut = statusMessage('bad \uD800 text \uDC00 end');
    assert.equal(cut, 'bad \uFFFD text \uFFFD end');
    assert.doesNotThrow(() => encodeURI(cut));
    assert.equal(statusMessage('pair 😀 kept'), 'pair 😀 kept');
  });

  it('is what toServiceError sends', () => {
    const err = toServiceError(new InferError('INTERNAL', 'z'.repeat(100_000)));
    assert.ok(wireBytes(err.details!) <= MAX_STATUS_MESSAGE_BYTES);
    assert.match(err.details!, /^z+… \(message cut; it had 100000 characters\)$/);
  });
});
