import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError } from '../../../../src/core/errors.js';
import { LIMIT_DEFAULTS } from '../../../../src/config/limits-config.js';
import type { RequestLimits } from '../../../../src/core/request-limits.js';
import { jsonValueBudget, MAX_JSON_DEPTH, scanJsonValues } from '../../../../src/transport/http/json-scan.js';

const limits: RequestLimits = { ...LIMIT_DEFAULTS, maxTypedElements: 100, maxInputs: 1 };
const budget = jsonValueBudget(limits);
const refused = (text: string) =>
  assert.throws(
    () => scanJsonValues(Buffer.from(text), limits),
    (err: unknown) => err instanceof InferError && err.id === 'REQUEST_LIMIT',
  );

describe('scanJsonValues', () => {
  it('budgets --max-typed-elements plus structure per input', () => {
    assert.equal(budget, 100 + 80);
  });

  it('counts every value a parse would create: a flat array of `budget` values passes, one more is refused', () => {
    // `[` counts one, and each comma one: an array of k elements counts k.
    const array = (k: number) => `[${Array.from({ length: k }, () => '0').join(',')}]`;
    scanJsonValues(Buffer.from(array(budget)), limits);
    refused(array(budget + 1));
    refused(`[${Array.from({ length: budget }, () => '[]').join(',')}]`);
    refused(`{${Array.from({ length: budget + 1 }, (_, i) => `"k${i}":1`).join(',')}}`);
  });

  it('skips strings, escaped quotes included', () => {
    scanJsonValues(Buffer.from(JSON.stringify(['[[[,,,{{{'.repeat(1000), 'a"],[', '\\', '\\"[,'])), limits);
    // A string ending in backslashes ends at its quote: what follows is structure again.
    scanJsonValues(Buffer.from(JSON.stringify(['\\', '\\\\', 'a\\"', '[[[,,,{{{'.repeat(1000)])), limits);
    refused(`["\\\\",${'0,'.repeat(budget)}0]`);
    refused(`["\\\"",${'0,'.repeat(budget)}0]`);
  });

  it('leaves an unterminated string to JSON.parse', () => {
    scanJsonValues(Buffer.from('["abc'), limits);
    scanJsonValues(Buffer.from('["abc\\"'), limits);
  });

  it('refuses nesting past MAX_JSON_DEPTH, and takes it at the bound', () => {
    scanJsonValues(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)), { ...limits, maxTypedElements: 1000 });
    assert.throws(() => scanJsonValues(Buffer.from('['.repeat(MAX_JSON_DEPTH + 1)), { ...limits, maxTypedElements: 1000 }), /nests deeper than 72 levels/);
  });
});
