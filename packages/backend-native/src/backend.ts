/**
 * The 'native' TensorFlow.js backend: a MathBackendCPU (same data storage, every cpu kernel
 * registered again for 'native') whose hot kernels are replaced by the addon's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeAddon } from './addon.js';
import type { KernelContext, NativeKernel } from './kernels/context.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { layoutKernels } from './kernels/layout.js';
import { matMulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';

export const NATIVE_BACKEND_NAME = 'native';

export class NativeBackend extends MathBackendCPU {
  constructor(readonly addon: NativeAddon) {
    super();
    // MathBackendCPU prints a "use tfjs-node" banner on first write; this backend is the native one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }
}

export const nativeKernels: NativeKernel[] = [...matMulKernels, ...elementwiseKernels, ...reduceKernels, ...layoutKernels];

const fallbacks = new Map<string, number>();

/** How often each native kernel handed a call to the cpu kernel (dtypes, shapes it does not handle). */
export function nativeFallbackCounts(): Record<string, number> {
  return Object.fromEntries(fallbacks);
}

/** Names of the kernels this package implements natively (the rest are tfjs's cpu kernels). */
export function nativeKernelNames(): string[] {
  return nativeKernels.map((k) => k.kernelName);
}

/**
 * Registers the backend factory and every kernel for `name` (idempotent). cpu kernels are copied;
 * native ones wrap the cpu kernel of the same name as their fallback.
 */
export function registerNativeBackend(addon: NativeAddon, name = NATIVE_BACKEND_NAME): void {
  if (tf.findBackendFactory(name) != null) return;
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((config) => [config.kernelName, config]));
  const context: KernelContext = { addon };
  const replaced = new Map(nativeKernels.map((k) => [k.kernelName, k]));
  for (const config of cpuKernels.values()) {
    if (tf.getKernel(config.kernelName, name) != null) continue;
    const native = replaced.get(config.kernelName);
    const original = config.kernelFunc;
    const kernelFunc: tf.KernelFunc = native
      ? (args) => {
          const result = native.run(args, args.backend as NativeBackend, context);
          if (result !== undefined) return result;
          fallbacks.set(native.kernelName, (fallbacks.get(native.kernelName) ?? 0) + 1);
          return original(args);
        }
      : original;
    tf.registerKernel({ ...config, backendName: name, kernelFunc });
  }
  tf.registerBackend(name, () => new NativeBackend(addon), 1);
}
