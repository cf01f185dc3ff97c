/**
 * Builds the int8 variants of the benchmark models (the generated MLP, the PaddleOCR
 * classifier and recogniser) in every int8 format, dynamic and static, through the server's
 * own load-time build, and prints what it measured: accuracy against fp32 and the speed-up at
 * load. Run it on each kind of CPU (or under `qemu-x86_64 -cpu Haswell-noTSX` for ONNX
 * Runtime's AVX2 kernels without VNNI, whose accuracy it reproduces but whose speed it does
 * not: emulated timings are left out when the U8S8 check disagrees with the CPU's flags).
 *
 * Usage: npx tsx scripts/int8-figures.ts [--models mlp,ocr_cls,ocr_rec] [--modes dynamic,static]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeCpu, expectsU8s8Saturation } from '../src/core/cpu-features.js';
import { INT8_FORMATS } from '../src/core/int8-format.js';
import { formatFigure } from '../src/core/precision.js';
import { probeDevices } from '../src/backend/device-probe.js';
import { loadModelDefinition } from '../src/repository/model-definition.js';
import { scanRepositories } from '../src/repository/model-source.js';
import { variantBuildJob } from '../src/repository/precision-config.js';
import { detectBuildHost } from '../src/variants/build-host.js';
import { planInt8Formats } from '../src/variants/int8-format-plan.js';
import { buildVariants } from '../src/variants/variant-build.js';
import { makeOcrRepository } from './make-ocr-repository.js';
import { makePrecisionRepository } from './make-precision-repository.js';

const arg = (name: string, fallback: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1]! : fallback).split(',');
const models = arg('models', 'mlp,ocr_cls,ocr_rec');
const modes = arg('modes', 'dynamic,static') as ('dynamic' | 'static')[];

const host = await detectBuildHost(true);
const emulated = expectsU8s8Saturation(host.cpu) === host.u8s8Exact;
console.log(`cpu: ${describeCpu(host.cpu)}; ONNX Runtime's U8S8 kernel ${host.u8s8Exact ? 'computes exactly' : 'saturates'}${emulated ? ' (flags disagree: emulated, speeds left out)' : ''}`);
console.log(`int8_format ${planInt8Formats('auto', host).why}`);
console.log('');
console.log('| model | int8 mode | format | relative L2 error | top-1 agreement | speed-up at load | tolerance |');
console.log('| --- | --- | --- | ---: | ---: | ---: | --- |');

const scratch = await mkdtemp(path.join(tmpdir(), 'nereid-int8-figures-'));
try {
  const devices = probeDevices();
  if (models.includes('mlp')) await makePrecisionRepository(scratch);
  const ocr = models.filter((m) => m.startsWith('ocr_'));
  if (ocr.length > 0) await makeOcrRepository(scratch, { batches: 4 }, ocr);
  const { sources } = await scanRepositories([scratch]);
  for (const name of models) {
    const source = sources.find((s) => s.name === name);
    if (source === undefined) throw new Error(`no model '${name}'`);
    const definition = await loadModelDefinition(source, { autoComplete: true, defaultMaxBatchSize: 4, devices });
    for (const mode of modes) {
      const settings = { ...definition.precision!, variants: ['fp32' as const, 'int8' as const], int8Mode: mode };
      for (const format of [...INT8_FORMATS, 'auto' as const]) {
        const job = { ...variantBuildJob(definition.config, settings, 1, definition.modelPath(1), 1, false), int8Format: format };
        const r = (await buildVariants(job, () => {}, host)).reports[0]!;
        if (format === 'auto') {
          console.log(`| ${name} | ${mode} | auto: ${r.int8Format!.format} | ${r.served ? 'served' : 'not served'} |  |  | ${r.int8Format!.why.replace(/^auto: [^:]*/, '').replace(/^: /, '')} |`);
          continue;
        }
        const a = r.accuracy;
        const cells = [
          name,
          mode,
          format,
          a === undefined ? `not built: ${r.reason}` : formatFigure(a.relativeL2Error),
          a?.top1Agreement === undefined ? '' : formatFigure(a.top1Agreement),
          emulated || r.speedup === undefined ? '' : `${formatFigure(r.speedup)}x`,
          r.served ? 'met' : 'missed',
        ];
        console.log(`| ${cells.join(' | ')} |`);
      }
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
