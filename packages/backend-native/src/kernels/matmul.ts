/** BatchMatMul and _FusedMatMul on cblas_sgemm, with tfjs's batch broadcasting (batch index modulo each side). */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { UnaryOpName } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { planBroadcast } from './broadcast.js';
import { floatOutput, floatValues, type NativeKernel } from './context.js';

interface MatMulPlan {
  shape: number[];
  transposeA: boolean;
  transposeB: boolean;
  m: number;
  n: number;
  k: number;
  batch: number;
  batchA: number;
  batchB: number;
}

/** Undefined for shapes the cpu kernel should handle (size 0, unusual batch shapes). */
function planMatMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) return undefined;
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  if (k !== (transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2])) return undefined;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  // tfjs computes max(batchA, batchB) products, reading a[bi % batchA] and b[bi % batchB]; other
  // broadcasts of the batch dims stay with the cpu kernel.
  if (util.sizeFromShape(outer) !== batch || batch * m * n === 0) return undefined;
  return { shape: [...outer, m, n], transposeA, transposeB, m, n, k, batch, batchA, batchB };
}

/** The product's values (a fresh buffer); undefined, before any work, when a or b is not float32. */
function runMatMul(backend: NativeBackend, a: TensorInfo, b: TensorInfo, plan: MatMulPlan): Float32Array | undefined {
  const av = floatValues(backend, a);
  const bv = floatValues(backend, b);
  if (!av || !bv) return undefined;
  const { transposeA, transposeB, m, n, k, batch, batchA, batchB } = plan;
  const values = backend.allocFloat32(batch * m * n);
  backend.addon.sgemm(transposeA, transposeB, m, n, k, av, bv, values, batch, batchA, batchB);
  return values;
}

const batchMatMulKernel: NativeKernel = {
  kernelName: tf.BatchMatMul,
  run({ inputs, attrs }, backend) {
    const { a, b } = inputs;
    if (!a || !b) return undefined;
    const plan = planMatMul(a, b, attrs?.transposeA === true, attrs?.transposeB === true);
    const values = plan && runMatMul(backend, a, b, plan);
    return plan && values && floatOutput(backend, plan.shape, values);
  },
};

const activations: Record<string, UnaryOpName | undefined> = {
  linear: 'LINEAR',
  relu: 'RELU',
  relu6: 'RELU6',
  elu: 'ELU',
  sigmoid: 'SIGMOID',
  leakyrelu: 'LEAKY_RELU',
};

/** An update of the product's values in place. */
type InPlace = (values: Float32Array) => void;

/** The broadcast spec of `out op other` when the result keeps out's shape (so it can be written into out). */
function inPlaceSpec(outShape: number[], otherShape: number[]): Float64Array | undefined {
  const plan = planBroadcast(outShape, otherShape);
  return plan && util.arraysEqual(plan.outShape, outShape) ? plan.spec : undefined;
}

/** out += bias, planned from out's shape before the product is computed. Undefined when the broadcast would not keep that shape. */
function planBias(backend: NativeBackend, outShape: number[], bias: TensorInfo): InPlace | undefined {
  const { addon } = backend;
  const bv = floatValues(backend, bias);
  if (!bv) return undefined;
  const cols = outShape[outShape.length - 1];
  const biasIsRow = bias.shape.length <= outShape.length && bias.shape.slice(0, -1).every((d) => d === 1);
  if (biasIsRow && bv.length === cols) return (values) => addon.biasRows(values, bv, values.length / cols, cols);
  const spec = inPlaceSpec(outShape, bias.shape);
  return spec && ((values) => addon.binary(addon.ops.binary.ADD, values, bv, values, spec));
}

const keep: InPlace = () => {};

function planActivation(
  backend: NativeBackend,
  outShape: number[],
  activation: string,
  alpha: number,
  preluWeights: TensorInfo | undefined,
): InPlace | undefined {
  const { addon } = backend;
  if (activation === 'prelu') {
    if (!preluWeights) return undefined;
    const wv = floatValues(backend, preluWeights);
    const spec = wv && inPlaceSpec(outShape, preluWeights.shape);
    return wv && spec && ((values) => addon.binary(addon.ops.binary.PRELU, values, wv, values, spec));
  }
  const op = activations[activation];
  if (!op) return undefined;
  return op === 'LINEAR' ? keep : (values) => addon.unary(addon.ops.unary[op], values, values, alpha);
}

const fusedMatMulKernel: NativeKernel = {
  kernelName: tf._FusedMatMul,
  run({ inputs, attrs }, backend) {
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b) return undefined;
    const plan = planMatMul(a, b, attrs?.transposeA === true, attrs?.transposeB === true);
    if (!plan) return undefined;
    // Activation and bias are planned from the output shape first: a fallback never wastes an sgemm.
    const activation = typeof attrs?.activation === 'string' ? attrs.activation : 'linear';
    const alpha = typeof attrs?.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
    const activate = planActivation(backend, plan.shape, activation, alpha, preluActivationWeights);
    const addBias = bias ? planBias(backend, plan.shape, bias) : keep;
    if (!activate || !addBias) return undefined;
    const values = runMatMul(backend, a, b, plan);
    if (!values) return undefined;
    addBias(values);
    activate(values);
    return floatOutput(backend, plan.shape, values);
  },
};

export const matMulKernels: NativeKernel[] = [batchMatMulKernel, fusedMatMulKernel];
