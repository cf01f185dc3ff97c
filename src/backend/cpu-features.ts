import { readFileSync } from 'node:fs';
import { type CpuFeatures, INT8_CPU_FEATURES } from '../core/cpu-features.js';

/**
 * Reads the CPU's int8-relevant features from /proc/cpuinfo: a cheap file read, so the
 * main thread may call it once at start-up. Elsewhere (no /proc) the features are unknown.
 */
export function readCpuFeatures(): CpuFeatures {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { arch: process.arch, model: '', int8: [], known: false };
  }
  return parseCpuInfo(text, process.arch);
}

/**
 * Parses /proc/cpuinfo text: the first processor's `flags` (x86) or `Features` (ARM) line,
 * and its `model name`. A text without either line gives unknown features.
 */
export function parseCpuInfo(text: string, arch: string): CpuFeatures {
  const field = (name: string): string | undefined => {
    const line = text.split('\n').find((l) => l.split(':')[0]!.trim().toLowerCase() === name);
    return line === undefined ? undefined : line.slice(line.indexOf(':') + 1).trim();
  };
  const flags = field('flags') ?? field('features');
  const model = field('model name') ?? '';
  if (flags === undefined) return { arch, model, int8: [], known: false };
  const present = new Set(flags.split(/\s+/));
  return { arch, model, int8: INT8_CPU_FEATURES.filter((f) => present.has(f)), known: true };
}
