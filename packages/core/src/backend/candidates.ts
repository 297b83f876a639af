import * as tf from '@tensorflow/tfjs';
import { isNotInstalled, type ModuleLoader } from './module-loader.js';
import type { BackendProvider, BackendStartOptions, BackendStartResult } from './provider.js';
import { registerWasmKernels } from './wasm-kernels.js';

export const BACKEND_NAMES = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A backend in the resolution order; `start` is given the loader so tests can simulate absent packages. */
export interface BackendCandidate {
  name: BackendName;
  kind: 'gpu' | 'cpu';
  install: string;
  start(loader: ModuleLoader, options: BackendStartOptions): Promise<BackendStartResult>;
}

async function setBackendChecked(name: string): Promise<BackendStartResult | null> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      return null;
    }
    return { ok: false, reason: `tf.setBackend('${name}') returned false (the backend failed to initialise)` };
  } catch (error) {
    return { ok: false, reason: `initialisation failed: ${(error as Error).message}` };
  }
}

/** Load a package; classify "not installed" vs "installed but broken" (e.g. its native binding is missing). */
async function load(loader: ModuleLoader, specifier: string): Promise<{ module: unknown } | { failure: string }> {
  try {
    return { module: await loader(specifier) };
  } catch (error) {
    if (isNotInstalled(error, specifier)) return { failure: `not installed (${specifier})` };
    return { failure: `native binding missing or broken: ${(error as Error).message.split('\n')[0]}` };
  }
}

interface TensorflowBinding {
  isUsingGpuDevice?: () => boolean;
}

function tensorflowCandidate(name: 'tensorflow-gpu' | 'tensorflow', specifier: string, install: string): BackendCandidate {
  const gpu = name === 'tensorflow-gpu';
  return {
    name,
    kind: gpu ? 'gpu' : 'cpu',
    install,
    async start(loader) {
      const loaded = await load(loader, specifier);
      if ('failure' in loaded) return { ok: false, reason: loaded.failure };
      const failed = await setBackendChecked('tensorflow');
      if (failed) return failed;
      const binding = (tf.backend() as unknown as { binding?: TensorflowBinding }).binding;
      const usingGpu = binding?.isUsingGpuDevice?.() ?? false;
      if (gpu && !usingGpu) return { ok: false, reason: 'no GPU: libtensorflow found no CUDA device (check nvidia-smi, CUDA 11.2 and cuDNN 8.1)' };
      return { ok: true, tfBackend: 'tensorflow', kind: gpu ? 'gpu' : 'cpu', info: { package: specifier, gpu: usingGpu } };
    },
  };
}

/** A rankwise backend package exporting `provider: BackendProvider`. */
function packageCandidate(name: 'webgpu' | 'native', specifier: string, kind: 'gpu' | 'cpu', install: string): BackendCandidate {
  return {
    name,
    kind,
    install,
    async start(loader, options) {
      const loaded = await load(loader, specifier);
      if ('failure' in loaded) return { ok: false, reason: loaded.failure };
      const provider = (loaded.module as { provider?: BackendProvider }).provider;
      if (!provider || typeof provider.start !== 'function') return { ok: false, reason: `${specifier} exports no backend provider` };
      try {
        return await provider.start(options);
      } catch (error) {
        return { ok: false, reason: `failed to start: ${(error as Error).message}` };
      }
    },
  };
}

const wasmCandidate: BackendCandidate = {
  name: 'wasm',
  kind: 'cpu',
  install: 'pnpm add @tensorflow/tfjs-backend-wasm@4.22.0',
  async start(loader) {
    const loaded = await load(loader, '@tensorflow/tfjs-backend-wasm');
    if ('failure' in loaded) return { ok: false, reason: loaded.failure };
    registerWasmKernels();
    const failed = await setBackendChecked('wasm');
    if (failed) return failed;
    return { ok: true, tfBackend: 'wasm', kind: 'cpu', info: { threads: 1, simd: true } };
  },
};

const cpuCandidate: BackendCandidate = {
  name: 'cpu',
  kind: 'cpu',
  install: 'part of @tensorflow/tfjs',
  async start() {
    const failed = await setBackendChecked('cpu');
    if (failed) return failed;
    return { ok: true, tfBackend: 'cpu', kind: 'cpu', info: { engine: 'plain JavaScript' } };
  },
};

/** Fastest first: GPUs, then native CPU libraries, then WebAssembly, then plain JavaScript. */
export function defaultCandidates(): BackendCandidate[] {
  return [
    tensorflowCandidate(
      'tensorflow-gpu',
      '@tensorflow/tfjs-node-gpu',
      'npm install @tensorflow/tfjs-node-gpu@4.22.0 (pnpm add -w in the rankwise repository; Linux x64, NVIDIA driver, CUDA 11.2 + cuDNN 8.1; its install downloads libtensorflow)',
    ),
    packageCandidate('webgpu', '@rankwise/backend-webgpu', 'gpu', 'npm install @rankwise/backend-webgpu and a Vulkan driver (see its README)'),
    tensorflowCandidate(
      'tensorflow',
      '@tensorflow/tfjs-node',
      'npm install @tensorflow/tfjs-node@4.22.0 (pnpm add -w in the rankwise repository; its install downloads libtensorflow)',
    ),
    packageCandidate(
      'native',
      '@rankwise/backend-native',
      'cpu',
      'apt-get install libopenblas0-pthread (and a C compiler), then npm install @rankwise/backend-native, or npm rebuild it (pnpm --filter @rankwise/backend-native run build:addon in the rankwise repository)',
    ),
    wasmCandidate,
    cpuCandidate,
  ];
}
