import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { DeviceInventory, ProviderStatus } from '../core/execution.js';
import { readCpuFeatures } from './cpu-features.js';

const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];

/**
 * What this machine offers ONNX Runtime, found without loading it (cheap file checks, so
 * the main thread may call it once at start-up): CPU cores and int8 features, NVIDIA GPUs (/dev/nvidiaN),
 * whether onnxruntime-node has its CUDA provider libraries, and whether a Vulkan loader
 * exists for WebGPU. A WebGPU adapter can only be found by creating a session; that
 * failure becomes the model's reason instead.
 */
export function probeDevices(): DeviceInventory {
  return {
    cpuCores: availableParallelism(),
    cpu: readCpuFeatures(),
    gpuIds: nvidiaDevices(),
    providers: { cpu: { available: true }, cuda: cudaStatus(), webgpu: webgpuStatus() },
  };
}

function nvidiaDevices(): number[] {
  try {
    return readdirSync('/dev')
      .map((name) => /^nvidia(\d+)$/.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function ortBinaryDir(): string {
  const main = createRequire(import.meta.url).resolve('onnxruntime-node');
  const root = path.resolve(path.dirname(main), '..');
  return path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
}

function cudaStatus(): ProviderStatus {
  const dir = ortBinaryDir();
  const library = path.join(dir, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(library)) {
    return {
      available: false,
      reason:
        `the CUDA execution provider libraries are not installed (${library} is missing); ` +
        'reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12, on a machine with CUDA 12 and cuDNN 9',
    };
  }
  return { available: true };
}

function webgpuStatus(): ProviderStatus {
  if (process.platform !== 'linux') return { available: true };
  const found = LIBRARY_DIRS.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')));
  if (!found) {
    return {
      available: false,
      reason: "WebGPU needs the Vulkan loader (libvulkan.so.1), which is not installed; install Debian's libvulkan1",
    };
  }
  return { available: true };
}
