/**
 * The 'native' TensorFlow.js backend: a MathBackendCPU (same data storage, every cpu kernel
 * registered again for 'native') whose hot kernels are replaced by the addon's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeAddon } from './addon.js';
import { defaultPoolBytes, Float32Pool } from './buffer-pool.js';
import type { NativeKernel } from './kernels/context.js';
import { convKernels } from './kernels/conv.js';
import { poolKernels } from './kernels/pool.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { layoutKernels } from './kernels/layout.js';
import { matMulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';

export const NATIVE_BACKEND_NAME = 'native';

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  readonly pool: Float32Pool;

  constructor(
    readonly addon: NativeAddon,
    poolBytes = defaultPoolBytes(),
  ) {
    super();
    this.pool = new Float32Pool(poolBytes, addon.releaseBuffer ? (buffer) => addon.releaseBuffer!(buffer) : undefined);
    // MathBackendCPU prints a "use tfjs-node" banner on first write; this backend is the native one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A float32 output buffer (pooled, contents arbitrary: write every element). */
  allocFloat32(length: number): Float32Array {
    return this.pool.alloc(length);
  }

  /** True when the data's buffer is pooled and held by this one entry and one tensor: safe to update in place. */
  isExclusive(dataId: DataId): boolean {
    if (!this.data.has(dataId)) return false;
    const entry = this.data.get(dataId);
    return entry.refCount === 1 && this.pool.isSoleHolder(entry.values);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const dataId = super.write(values, shape, dtype);
    this.pool.retain(values);
    return dataId;
  }

  override move(dataId: DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    const previous = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    super.move(dataId, values, shape, dtype, refCount);
    this.pool.retain(values);
    this.pool.release(previous);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const result = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return result;
  }

  /**
   * Drops the free buffers the pool keeps for reuse (up to its byte limit). Generation calls it between decode steps:
   * the KV cache grows by one position per step, so the buffers it frees never come back in the same length and would
   * otherwise fill the pool to its limit.
   */
  releaseUnusedMemory(): void {
    this.pool.clear();
  }

  /**
   * Disposes the tensors and returns the memory of each buffer that no tensor holds any more at once, rather than
   * keeping it in the pool (a KV cache's blocks, replaced by longer ones, never come back in the same size).
   */
  disposeAndRelease(tensors: readonly tf.Tensor[]): void {
    for (const t of tensors) {
      const values = !t.isDisposed && this.data.has(t.dataId) ? this.data.get(t.dataId).values : undefined;
      t.dispose();
      if (values !== undefined) this.pool.drop(values);
    }
  }

  /** Pooled buffers are reused after dispose, so readers get a copy. */
  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    return this.pool.owns(values) ? values.slice() : values;
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}

export const nativeKernels: NativeKernel[] = [...matMulKernels, ...elementwiseKernels, ...reduceKernels, ...layoutKernels, ...convKernels, ...poolKernels];

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
  // RANKWISE_NATIVE_DISABLE=Concat,Max keeps tfjs's cpu kernels for those names (diagnostics).
  const disabled = new Set((process.env.RANKWISE_NATIVE_DISABLE ?? '').split(',').map((n) => n.trim()));
  const replaced = new Map(nativeKernels.filter((k) => !disabled.has(k.kernelName)).map((k) => [k.kernelName, k]));
  for (const config of cpuKernels.values()) {
    if (tf.getKernel(config.kernelName, name) != null) continue;
    const native = replaced.get(config.kernelName);
    const original = config.kernelFunc;
    const kernelFunc: tf.KernelFunc = native
      ? (args) => {
          const result = native.run(args, args.backend as NativeBackend);
          if (result !== undefined) return result;
          fallbacks.set(native.kernelName, (fallbacks.get(native.kernelName) ?? 0) + 1);
          return original(args);
        }
      : original;
    tf.registerKernel({ ...config, backendName: name, kernelFunc });
  }
  tf.registerBackend(name, () => new NativeBackend(addon), 1);
}
