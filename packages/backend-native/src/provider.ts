/** `provider` for rankwise: loads the addon, dlopens BLAS, registers and selects the 'native' backend. */
import * as tf from '@tensorflow/tfjs-core';

import { createNativeAdam } from './adam.js';
import { loadAddon } from './addon.js';
import { NATIVE_BACKEND_NAME, nativeKernelNames, registerNativeBackend } from './backend.js';
import { registerQuantizedMatMul } from './kernels/quantized.js';
import { chooseCoretype } from './coretype.js';
import type { AdamSpec, BackendProvider, BackendStartResult } from './types.js';

export const INSTALL_HINT =
  'apt-get install libopenblas0-pthread (and a C compiler), then npm rebuild @rankwise/backend-native (pnpm --filter @rankwise/backend-native run build:addon in the rankwise repository)';

/** Tried in order unless RANKWISE_BLAS names the libraries (':'-separated). */
export const DEFAULT_BLAS_PATHS = [
  'libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0',
  'libopenblas.so',
  'libblas.so.3',
  'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

export interface NativeStartOptions {
  /** Compiled addon (default: build/rankwise_native.node of this package). */
  addonPath?: string;
  /** ':'-separated BLAS libraries (default: RANKWISE_BLAS, else DEFAULT_BLAS_PATHS). */
  blasPaths?: string;
  /** Kernel threads (default: RANKWISE_THREADS, else every CPU the process may use). */
  threads?: number;
  /** Who threads sgemm (default: RANKWISE_GEMM_THREADS, else 'pool'). */
  gemmThreading?: 'pool' | 'blas';
  /** Portable kernels even on AVX2 CPUs (default: RANKWISE_NATIVE_BASELINE=1). */
  forceBaseline?: boolean;
  /**
   * glibc mmap threshold in KiB (default: RANKWISE_MMAP_THRESHOLD_KB, else 0: glibc's dynamic one). A fixed threshold
   * (e.g. 128) keeps large tensor buffers mmapped, so freed ones go back to the system at once, for about 40 MiB less
   * peak in W5 but every large buffer freshly page-faulted: W5 batch-8 decode 60–73 against 98–104 tokens/s without it.
   */
  mmapThresholdKiB?: number;
  env?: NodeJS.ProcessEnv;
}

function positiveInt(text: string | undefined): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Never throws: every failure is `{ ok: false, reason }`. */
export async function startNativeBackend(options: NativeStartOptions = {}): Promise<BackendStartResult> {
  try {
    const env = options.env ?? process.env;
    const loaded = loadAddon(options.addonPath);
    if (!loaded.ok) return { ok: false, reason: loaded.reason };
    const { addon } = loaded;
    const choice = chooseCoretype(env);
    if (choice.problem) return { ok: false, reason: `${choice.problem}; unset it or name a core type this CPU supports` };
    const blasPaths = options.blasPaths ?? (env.RANKWISE_BLAS || DEFAULT_BLAS_PATHS.join(':'));
    const gemmThreading = options.gemmThreading ?? (env.RANKWISE_GEMM_THREADS === 'blas' ? 'blas' : 'pool');
    const init = addon.init({
      blasPaths,
      coretype: choice.coretype, // set only if the process environment has none (setenv without overwrite)
      threads: options.threads ?? positiveInt(env.RANKWISE_THREADS),
      forceBaseline: options.forceBaseline ?? env.RANKWISE_NATIVE_BASELINE === '1',
      gemmThreading,
      mmapThreshold: (options.mmapThresholdKiB ?? Math.max(0, Number(env.RANKWISE_MMAP_THRESHOLD_KB ?? 0) || 0)) * 1024,
    });
    if (!init.ok) {
      const tried = blasPaths.split(':').filter(Boolean).length;
      return {
        ok: false,
        reason: `no OpenBLAS found (${tried} library ${tried === 1 ? 'name' : 'names'} tried; apt-get install libopenblas0-pthread)`,
        detail: `${init.reason}; install: ${INSTALL_HINT}`,
      };
    }
    registerNativeBackend(addon);
    registerQuantizedMatMul(NATIVE_BACKEND_NAME);
    if (!(await tf.setBackend(NATIVE_BACKEND_NAME))) {
      return { ok: false, reason: `tf.setBackend('${NATIVE_BACKEND_NAME}') returned false` };
    }
    const coretypeSource =
      choice.source === 'environment'
        ? 'environment (OPENBLAS_CORETYPE)'
        : choice.source === 'cpuinfo'
          ? `chosen from /proc/cpuinfo (${choice.detail})`
          : `OpenBLAS's own detection (${choice.detail})`;
    return {
      ok: true,
      tfBackend: NATIVE_BACKEND_NAME,
      kind: 'cpu',
      info: {
        blas: init.blasPath,
        blasConfig: init.blasConfig,
        coretype: init.coretype || choice.coretype || 'unknown',
        coretypeSource,
        threads: init.threads,
        blasThreads: init.blasThreads,
        gemmThreading: init.gemmThreading,
        mmapThreshold: init.mmapThreshold ?? 0,
        isa: init.isa,
        nativeKernels: nativeKernelNames().length,
        addon: loaded.path,
      },
      createAdam: (spec: AdamSpec) => createNativeAdam(addon, NATIVE_BACKEND_NAME, spec),
    };
  } catch (error) {
    return { ok: false, reason: `native backend failed to start: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export const provider: BackendProvider = {
  name: 'native',
  kind: 'cpu',
  install: INSTALL_HINT,
  start: () => startNativeBackend(),
};
