/** Sum / Mean / Max / Min / Prod over one contiguous block of axes, and Softmax over the last axis. */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import type { ReduceOpName } from '../addon.js';
import { floatOutput, floatValues, type NativeKernel } from './context.js';

interface ReducePlan {
  outer: number;
  reduceSize: number;
  inner: number;
  outShape: number[];
}

/**
 * x viewed as [outer, reduceSize, inner]: possible when the reduced axes (ignoring size-1 dims)
 * form one contiguous block. Undefined otherwise.
 */
function planReduce(shape: readonly number[], axisAttr: unknown, keepDims: boolean): ReducePlan | undefined {
  let axes: number[];
  try {
    axes = util.parseAxisParam(axisAttr as number | number[], shape as number[]);
  } catch {
    return undefined;
  }
  if (axes.length === 0) return undefined;
  const reduced = new Set(axes);
  let outer = 1;
  let reduceSize = 1;
  let inner = 1;
  let phase = 0; // 0: before the block, 1: inside, 2: after
  for (let d = 0; d < shape.length; d += 1) {
    const n = shape[d];
    if (n === 1) continue;
    if (reduced.has(d)) {
      if (phase === 2) return undefined;
      phase = 1;
      reduceSize *= n;
    } else if (phase === 0) {
      outer *= n;
    } else {
      phase = 2;
      inner *= n;
    }
  }
  const [outShape] = backend_util.computeOutAndReduceShapes(shape as number[], axes);
  return {
    outer,
    reduceSize,
    inner,
    outShape: keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
  };
}

function reduceKernel(kernelName: string, op: ReduceOpName, axisAttr: string): NativeKernel {
  return {
    kernelName,
    run({ inputs, attrs }, backend) {
      const { addon } = backend;
      const x = inputs.x;
      if (!x || util.sizeFromShape(x.shape) === 0) return undefined;
      const xv = floatValues(backend, x);
      if (!xv) return undefined;
      const plan = planReduce(x.shape, attrs?.[axisAttr], attrs?.keepDims === true);
      if (!plan) return undefined;
      const out = backend.allocFloat32(plan.outer * plan.inner);
      addon.reduce(addon.ops.reduce[op], xv, out, plan.outer, plan.reduceSize, plan.inner);
      return floatOutput(backend, plan.outShape, out);
    },
  };
}

const softmaxKernel: NativeKernel = {
  kernelName: tf.Softmax,
  run({ inputs, attrs }, backend) {
    const { addon } = backend;
    const logits = inputs.logits;
    if (!logits) return undefined;
    const rank = logits.shape.length;
    const dim = attrs?.dim;
    if (rank === 0 || (dim !== -1 && dim !== rank - 1)) return undefined;
    const cols = logits.shape[rank - 1];
    const size = util.sizeFromShape(logits.shape);
    const xv = floatValues(backend, logits);
    if (!xv || size === 0) return undefined;
    const out = backend.allocFloat32(size);
    addon.softmax(xv, out, size / cols, cols);
    return floatOutput(backend, logits.shape.slice(), out);
  },
};

export const reduceKernels: NativeKernel[] = [
  reduceKernel(tf.Sum, 'SUM', 'axis'),
  reduceKernel(tf.Mean, 'MEAN', 'axis'),
  reduceKernel(tf.Max, 'MAX', 'reductionIndices'),
  reduceKernel(tf.Min, 'MIN', 'axis'),
  reduceKernel(tf.Prod, 'PROD', 'axis'),
  softmaxKernel,
];
