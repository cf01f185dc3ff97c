/**
 * Prints what decides int8 on this machine: the CPU's int8 features, whether ONNX Runtime's
 * U8S8 kernel computes exactly here, and the int8 format `auto` picks. CI prints it before
 * the tests, so a failing int8 figure names the machine it ran on.
 *
 * Usage: npx tsx scripts/cpu-info.ts
 */
import { describeCpu } from '../src/core/cpu-features.js';
import { detectBuildHost } from '../src/variants/build-host.js';
import { planInt8Formats } from '../src/variants/int8-format-plan.js';

const host = await detectBuildHost(true);
console.log(`cpu: ${describeCpu(host.cpu)}`);
console.log(`onnx runtime u8s8 kernel: ${host.u8s8Exact ? 'computes exactly' : 'saturates (int16 pair sums)'}`);
const plan = planInt8Formats('auto', host);
console.log(`int8_format ${plan.why}`);
if (plan.warning !== undefined) console.log(`warning: ${plan.warning}`);
