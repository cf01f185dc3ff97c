import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { readCpuFeatures } from '../../src/backend/cpu-features.js';
import { describeCpu } from '../../src/core/cpu-features.js';
import type { MachineInfo } from './bench-types.js';

/** What this machine is, for the report: cores, CPU and its int8 features, memory, Node, OS and the commit measured. */
export function machineInfo(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: commit(),
    cpuInt8: describeCpu(readCpuFeatures()),
  };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'scripts'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return '';
  }
}
