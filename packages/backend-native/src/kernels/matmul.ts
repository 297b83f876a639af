/** BatchMatMul and _FusedMatMul on cblas_sgemm, with tfjs's batch broadcasting (batch index modulo each side). */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon, UnaryOpName } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { planBroadcast } from './broadcast.js';
import { floatOutput, floatValues, sizeOf, type NativeKernel } from './context.js';

interface MatMulResult {
  shape: number[];
  values: Float32Array;
}

/** Undefined for anything the cpu kernel should handle (dtypes, size 0, unusual batch shapes). */
export function nativeMatMul(backend: NativeBackend, a: TensorInfo, b: TensorInfo,
  transposeA: boolean, transposeB: boolean): MatMulResult | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) return undefined;
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  if (k !== (transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2])) return undefined;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  // tfjs computes max(batchA, batchB) products, reading a[bi % batchA] and b[bi % batchB]; other
  // broadcasts of the batch dims stay with the cpu kernel.
  if (sizeOf(outer) !== batch || batch * m * n === 0) return undefined;
  const av = floatValues(backend, a);
  const bv = floatValues(backend, b);
  if (!av || !bv) return undefined;
  const values = backend.allocFloat32(batch * m * n);
  backend.addon.sgemm(transposeA, transposeB, m, n, k, av, bv, values, batch, batchA, batchB);
  return { shape: [...outer, m, n], values };
}

const batchMatMulKernel: NativeKernel = {
  kernelName: tf.BatchMatMul,
  run({ inputs, attrs }, backend) {
    const { a, b } = inputs;
    if (!a || !b) return undefined;
    const result = nativeMatMul(backend, a, b, attrs?.transposeA === true, attrs?.transposeB === true);
    return result && floatOutput(backend, result.shape, result.values);
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

/** out += bias in place when the broadcast keeps out's shape. Returns false when it would not. */
function addBiasInPlace(addon: NativeAddon, backend: NativeBackend, out: MatMulResult, bias: TensorInfo): boolean {
  const bv = floatValues(backend, bias);
  if (!bv) return false;
  const cols = out.shape[out.shape.length - 1];
  const biasIsRow = bias.shape.length <= out.shape.length && bias.shape.slice(0, -1).every((d) => d === 1);
  if (biasIsRow && bv.length === cols) {
    addon.biasRows(out.values, bv, out.values.length / cols, cols);
    return true;
  }
  const plan = planBroadcast(out.shape, bias.shape);
  if (!plan || plan.outShape.length !== out.shape.length || plan.outShape.some((d, i) => d !== out.shape[i])) return false;
  addon.binary(addon.ops.binary.ADD, out.values, bv, out.values, plan.spec);
  return true;
}

function activateInPlace(addon: NativeAddon, backend: NativeBackend, out: MatMulResult, activation: string,
  alpha: number, preluWeights: TensorInfo | undefined): boolean {
  if (activation === 'prelu') {
    const wv = preluWeights && floatValues(backend, preluWeights);
    const plan = wv && preluWeights && planBroadcast(out.shape, preluWeights.shape);
    if (!wv || !plan || plan.outShape.length !== out.shape.length || plan.outShape.some((d, i) => d !== out.shape[i])) return false;
    addon.binary(addon.ops.binary.PRELU, out.values, wv, out.values, plan.spec);
    return true;
  }
  const op = activations[activation];
  if (!op) return false;
  if (op !== 'LINEAR') addon.unary(addon.ops.unary[op], out.values, out.values, alpha);
  return true;
}

const fusedMatMulKernel: NativeKernel = {
  kernelName: tf._FusedMatMul,
  run({ inputs, attrs }, backend) {
    const { addon } = backend;
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b) return undefined;
    const activation = typeof attrs?.activation === 'string' ? attrs.activation : 'linear';
    if (activation !== 'prelu' && !activations[activation]) return undefined;
    if (bias && bias.dtype !== 'float32') return undefined;
    const result = nativeMatMul(backend, a, b, attrs?.transposeA === true, attrs?.transposeB === true);
    if (!result) return undefined;
    if (bias && !addBiasInPlace(addon, backend, result, bias)) return undefined;
    const alpha = typeof attrs?.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
    if (!activateInPlace(addon, backend, result, activation, alpha, preluActivationWeights)) return undefined;
    return floatOutput(backend, result.shape, result.values);
  },
};

export const matMulKernels: NativeKernel[] = [batchMatMulKernel, fusedMatMulKernel];
