import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ERROR_CATALOG, InferError, type ErrorCode, type ErrorId } from '../../../../src/core/errors.js';
import { grpcCode, toServiceError } from '../../../../src/transport/grpc/status.js';

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
