/** What every native kernel gets: its arguments and the backend (its data, its addon, its buffer pool). */
import * as tf from '@tensorflow/tfjs-core';
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

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
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
