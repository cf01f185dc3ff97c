import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError } from '../../../src/core/errors.js';
import { parseVersionString } from '../../../src/repository/version-string.js';

const notIntegral = (s: string) =>
  `failed to get model version from specified version string '${s}' (details: stol), version should be an integral value > 0`;
const negative = (s: string) => `invalid model version specified '${s}' , version should be an integral value > 0`;

function rejects(version: string, message: string): void {
  assert.throws(
    () => parseVersionString(version),
    (err: unknown) => {
      assert.ok(err instanceof InferError);
      assert.equal(err.id, 'MODEL_VERSION_INVALID');
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('parseVersionString', () => {
  it("returns undefined for '' (the latest ready version)", () => {
    assert.equal(parseVersionString(''), undefined);
  });

  it('parses plain integers, 0 included', () => {
    assert.equal(parseVersionString('1'), 1);
    assert.equal(parseVersionString('42'), 42);
    assert.equal(parseVersionString('0'), 0);
    assert.equal(parseVersionString('007'), 7);
  });

  it('follows std::stol: a numeric prefix, leading white space and a plus sign are accepted', () => {
    assert.equal(parseVersionString('1abc'), 1);
    assert.equal(parseVersionString('3.7'), 3);
    assert.equal(parseVersionString(' 2'), 2);
    assert.equal(parseVersionString('\t\n5'), 5);
    assert.equal(parseVersionString('+3'), 3);
  });

  it('rejects text with no leading integer', () => {
    rejects('abc', notIntegral('abc'));
    rejects(' ', notIntegral(' '));
    rejects('+', notIntegral('+'));
    rejects('- 1', notIntegral('- 1'));
    rejects('v1', notIntegral('v1'));
  });

  it('rejects a number beyond the integer range as stol does', () => {
    rejects('99999999999999999999', notIntegral('99999999999999999999'));
  });

  it('rejects negative versions, with the space before the comma', () => {
    rejects('-1', negative('-1'));
    rejects('-12x', negative('-12x'));
  });
});
