import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCpu } from '../../../src/core/cpu-features.js';
import { detectBuildHost } from '../../../src/variants/build-host.js';

describe('detectBuildHost', () => {
  it("reads the CPU, and checks ONNX Runtime's U8S8 kernel only for an int8 build", async (t) => {
    const host = await detectBuildHost(true);
    // Printed in every test log, so that a failing int8 figure names the machine it ran on.
    t.diagnostic(`int8 host: ${describeCpu(host.cpu)}; ONNX Runtime's U8S8 kernel ${host.u8s8Exact ? 'computes exactly' : 'saturates'}`);
    assert.equal(typeof host.u8s8Exact, 'boolean');
    assert.equal((await detectBuildHost(false)).u8s8Exact, undefined);
  });
});
