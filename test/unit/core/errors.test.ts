import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CATALOG, InferError, type ErrorCode, type ErrorId } from '../../../src/core/errors.js';

const CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'UNAVAILABLE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'CANCELLED',
  'DEADLINE_EXCEEDED',
  'ALREADY_EXISTS',
];

const ids = Object.keys(ERROR_CATALOG) as ErrorId[];

describe('ERROR_CATALOG', () => {
  it('gives every id a known code and a summary', () => {
    assert.ok(ids.length > 0);
    for (const id of ids) {
      const entry = ERROR_CATALOG[id];
      assert.ok(CODES.includes(entry.code), `${id} has unknown code ${entry.code}`);
      assert.ok(entry.summary.trim().length > 0, `${id} has no summary`);
    }
  });

  it('uses upper snake case ids', () => {
    for (const id of ids) assert.match(id, /^[A-Z][A-Z0-9_]*$/);
  });

  it('classifies client mistakes as INVALID_ARGUMENT or NOT_FOUND, never INTERNAL', () => {
    const clientMistakes: ErrorId[] = [
      'MODEL_NOT_FOUND',
      'MODEL_VERSION_INVALID',
      'INPUT_MISSING',
      'INPUT_UNEXPECTED',
      'INPUT_DATATYPE',
      'INPUT_SHAPE',
      'INPUT_BATCH',
      'INPUT_BYTE_SIZE',
      'INPUT_CONTENTS',
      'OUTPUT_UNEXPECTED',
      'PARAMETER_INVALID',
    ];
    for (const id of clientMistakes) assert.ok(['INVALID_ARGUMENT', 'NOT_FOUND'].includes(ERROR_CATALOG[id].code), id);
  });

  it('maps the lifecycle ids to the codes Triton clients expect', () => {
    assert.equal(ERROR_CATALOG.MODEL_NOT_FOUND.code, 'NOT_FOUND');
    assert.equal(ERROR_CATALOG.MODEL_NOT_READY.code, 'UNAVAILABLE');
    assert.equal(ERROR_CATALOG.REQUEST_CANCELLED.code, 'CANCELLED');
    assert.equal(ERROR_CATALOG.DEADLINE_EXCEEDED.code, 'DEADLINE_EXCEEDED');
    assert.equal(ERROR_CATALOG.SERVER_STOPPING.code, 'UNAVAILABLE');
    assert.equal(ERROR_CATALOG.UNSUPPORTED.code, 'UNIMPLEMENTED');
    assert.equal(ERROR_CATALOG.INTERNAL.code, 'INTERNAL');
  });
});

describe('InferError', () => {
  it('takes its code from the catalogue', () => {
    for (const id of ids) {
      const err = new InferError(id, `message for ${id}`);
      assert.equal(err.id, id);
      assert.equal(err.code, ERROR_CATALOG[id].code);
      assert.equal(err.message, `message for ${id}`);
    }
  });

  it('is an Error named InferError, with an optional cause', () => {
    const cause = new Error('root');
    const err = new InferError('BACKEND_ERROR', 'boom', { cause });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'InferError');
    assert.equal(err.cause, cause);
    assert.match(String(err), /^InferError: boom$/);
  });

  describe('from', () => {
    it('returns an InferError unchanged', () => {
      const err = new InferError('INPUT_SHAPE', 'bad shape');
      assert.equal(InferError.from(err), err);
    });

    it('wraps a plain Error as INTERNAL, keeping its message and cause', () => {
      const original = new TypeError('x is undefined');
      const wrapped = InferError.from(original);
      assert.ok(wrapped instanceof InferError);
      assert.equal(wrapped.id, 'INTERNAL');
      assert.equal(wrapped.code, 'INTERNAL');
      assert.equal(wrapped.message, 'x is undefined');
      assert.equal(wrapped.cause, original);
    });

    it('wraps thrown non-errors by their string form', () => {
      assert.equal(InferError.from('plain string').message, 'plain string');
      assert.equal(InferError.from(42).message, '42');
      assert.equal(InferError.from(undefined).message, 'undefined');
      assert.equal(InferError.from({ code: 5 }).id, 'INTERNAL');
    });
  });
});

describe('InferError stack traces', () => {
  it('captures a stack only for INTERNAL errors, and leaves Error.stackTraceLimit as it was', () => {
    const limit = Error.stackTraceLimit;
    const refusal = new InferError('QUEUE_FULL', 'queue full');
    const fault = new InferError('INTERNAL', 'broken');
    assert.equal(Error.stackTraceLimit, limit);
    assert.doesNotMatch(refusal.stack ?? '', /\n\s+at /);
    assert.match(fault.stack ?? '', /\n\s+at /);
    assert.equal(refusal.code, 'UNAVAILABLE');
    assert.match(new Error('plain').stack ?? '', /\n\s+at /);
  });
});
