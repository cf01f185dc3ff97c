import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { CallError } from '../../scripts/lib/grpc-client.js';

/** Awaits a call that must fail, and checks its gRPC code and message (exact string or pattern). */
export async function assertGrpcError(call: Promise<unknown>, code: status, message: string | RegExp): Promise<CallError> {
  try {
    await call;
  } catch (err) {
    const error = err as CallError;
    assert.equal(status[error.code], status[code], `code for: ${error.details}`);
    if (typeof message === 'string') assert.equal(error.details, message);
    else assert.match(error.details, message);
    return error;
  }
  assert.fail(`expected the call to fail with ${status[code]}`);
}
