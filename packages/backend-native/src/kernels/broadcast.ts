/** Broadcast iteration specs for the native binary kernel (numpy rules, as tfjs's assertAndGetBroadcastShape). */
import { backend_util, util } from '@tensorflow/tfjs-core';

import { collapseDims, MAX_NATIVE_RANK, stridesOf } from './context.js';

interface BroadcastPlan {
  outShape: number[];
  size: number;
  /** [rank, dims..., aStrides..., bStrides...] after dropping size-1 dims and merging contiguous ones. */
  spec: Float64Array;
}

function paddedStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const padded = new Array<number>(rank - shape.length).fill(1).concat(shape);
  const strides = stridesOf(padded);
  return padded.map((d, i) => (d === 1 ? 0 : strides[i]));
}

/** Undefined when the shapes do not broadcast (the original kernel then reports the error). */
export function planBroadcast(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan | undefined {
  let outShape: number[];
  try {
    outShape = backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  } catch {
    return undefined;
  }
  const size = util.sizeFromShape(outShape);
  const aStrides = paddedStrides(aShape, outShape);
  const bStrides = paddedStrides(bShape, outShape);
  const {
    dims,
    strides: [as, bs],
  } = collapseDims(outShape, [aStrides, bStrides]);
  if (dims.length > MAX_NATIVE_RANK) return undefined;
  return { outShape, size, spec: Float64Array.from([dims.length, ...dims, ...as, ...bs]) };
}
