/** What every native kernel gets: its arguments and the backend (its data, its addon, its buffer pool). */
import type * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeBackend } from '../backend.js';

export type KernelArgs = Parameters<tf.KernelFunc>[0];

export interface NativeKernel {
  kernelName: string;
  /** Returns undefined to hand the call to the cpu kernel of the same name (dtypes, cases not handled). */
  run(args: KernelArgs, backend: NativeBackend): tf.TensorInfo | tf.TensorInfo[] | undefined;
}

/**
 * float32 values of a tensor as a Float32Array. The cpu backend may store a float32 tensor's data as
 * an Int32Array or Uint8Array (casts without encoding loss share the buffer); those are converted.
 */
export function floatValues(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Float32Array) return values;
  if (values instanceof Int32Array || values instanceof Uint8Array) return Float32Array.from(values);
  return undefined;
}

export function int32Values(backend: MathBackendCPU, t: tf.TensorInfo): Int32Array | undefined {
  if (t.dtype !== 'int32') return undefined;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Int32Array ? values : undefined;
}

export function floatOutput(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d -= 1) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

export const MAX_NATIVE_RANK = 8;

/**
 * Drops size-1 dims of `shape` and merges a dim into the previous one when every stride set walks
 * the pair contiguously (previous stride == stride * n). Every dim size 1: dims [1], strides 0.
 */
export function collapseDims(shape: readonly number[], strideSets: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides = strideSets.map((): number[] => []);
  for (let d = 0; d < shape.length; d += 1) {
    const n = shape[d];
    if (n === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let s = 0; merge && s < strideSets.length; s += 1) merge = strides[s][last] === strideSets[s][d] * n;
    if (merge) {
      dims[last] *= n;
      for (let s = 0; s < strideSets.length; s += 1) strides[s][last] = strideSets[s][d];
    } else {
      dims.push(n);
      for (let s = 0; s < strideSets.length; s += 1) strides[s].push(strideSets[s][d]);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    for (const set of strides) set.push(0);
  }
  return { dims, strides };
}
