import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelVersionPolicy } from '../../../src/generated/model_config.js';
import { selectVersions } from '../../../src/repository/version-policy.js';

const latest = (numVersions: number) => ModelVersionPolicy.fromPartial({ policyChoice: { $case: 'latest', value: { numVersions } } });
const all = ModelVersionPolicy.fromPartial({ policyChoice: { $case: 'all', value: {} } });
const specific = (...versions: bigint[]) => ModelVersionPolicy.fromPartial({ policyChoice: { $case: 'specific', value: { versions } } });

describe('selectVersions', () => {
  it('serves the highest version when no policy is given', () => {
    assert.deepEqual(selectVersions(undefined, [1, 3, 2]), [3]);
    assert.deepEqual(selectVersions(ModelVersionPolicy.fromPartial({}), [1, 3, 2]), [3]);
  });

  it('latest keeps the N highest, sorted ascending (numerically, not as text)', () => {
    assert.deepEqual(selectVersions(latest(2), [10, 9, 1, 2]), [9, 10]);
    assert.deepEqual(selectVersions(latest(1), [7]), [7]);
  });

  it('latest with more versions asked than exist keeps them all', () => {
    assert.deepEqual(selectVersions(latest(5), [2, 1]), [1, 2]);
  });

  it('all keeps every version, sorted', () => {
    assert.deepEqual(selectVersions(all, [3, 1, 2]), [1, 2, 3]);
  });

  it('specific keeps the listed versions that exist', () => {
    assert.deepEqual(selectVersions(specific(1n, 3n, 9n), [1, 2, 3]), [1, 3]);
    assert.deepEqual(selectVersions(specific(), [1, 2]), []);
  });

  it('selects nothing when no version is on disk', () => {
    assert.deepEqual(selectVersions(latest(1), []), []);
    assert.deepEqual(selectVersions(all, []), []);
  });

  it('does not modify the list it is given', () => {
    const available = [3, 1, 2];
    selectVersions(all, available);
    assert.deepEqual(available, [3, 1, 2]);
  });
});
