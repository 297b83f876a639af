/** Transpose, GatherV2, UnsortedSegmentSum and Concat for 4-byte dtypes (float32 / int32). */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { Data32 } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { collapseDims, floatValues, int32Values, MAX_NATIVE_RANK, stridesOf, type NativeKernel } from './context.js';

/** The tensor's own storage when it is a 4-byte typed array of its dtype, plus an empty output of that kind. */
function data32(backend: NativeBackend, t: TensorInfo): { values: Data32; make: (n: number) => Float32Array | Int32Array } | undefined {
  const values = backend.data.get(t.dataId).values;
  if (t.dtype === 'float32' && values instanceof Float32Array) return { values, make: (n) => backend.allocFloat32(n) };
  if (t.dtype === 'int32' && values instanceof Int32Array) return { values, make: (n) => new Int32Array(n) };
  return undefined;
}

/** Output dims with the input stride each one walks; size-1 dims dropped, contiguous runs merged. */
function planTranspose(shape: readonly number[], perm: readonly number[]): { dims: number[]; strides: number[] } {
  const inStrides = stridesOf(shape);
  const {
    dims,
    strides: [strides],
  } = collapseDims(
    perm.map((axis) => shape[axis]),
    [perm.map((axis) => inStrides[axis])],
  );
  return { dims, strides };
}

const transposeKernel: NativeKernel = {
  kernelName: tf.Transpose,
  run({ inputs, attrs }, backend) {
    const { addon } = backend;
    const x = inputs.x;
    const perm = attrs?.perm;
    if (!x || !Array.isArray(perm) || perm.length !== x.shape.length) return undefined;
    const src = data32(backend, x);
    const size = util.sizeFromShape(x.shape);
    if (!src || size === 0) return undefined;
    const plan = planTranspose(x.shape, perm as number[]);
    if (plan.dims.length > MAX_NATIVE_RANK) return undefined;
    const out = src.make(size);
    addon.transpose(src.values, out, Float64Array.from(plan.dims), Float64Array.from(plan.strides));
    const outShape = (perm as number[]).map((axis) => x.shape[axis]);
    return backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

const gatherKernel: NativeKernel = {
  kernelName: tf.GatherV2,
  run({ inputs, attrs }, backend) {
    const { addon } = backend;
    const { x, indices } = inputs;
    if (!x || !indices || (attrs?.batchDims ?? 0) !== 0) return undefined;
    const src = data32(backend, x);
    const idx = int32Values(backend, indices);
    if (!src || !idx || util.sizeFromShape(x.shape) === 0) return undefined;
    let axis: number;
    try {
      axis = util.parseAxisParam(attrs?.axis as number, x.shape)[0];
    } catch {
      return undefined;
    }
    const outer = util.sizeFromShape(x.shape.slice(0, axis));
    const inner = util.sizeFromShape(x.shape.slice(axis + 1));
    const out = src.make(outer * idx.length * inner);
    // An out-of-range index: the cpu kernel throws tfjs's own error message.
    if (addon.gather(src.values, idx, out, outer, x.shape[axis], inner) !== -1) return undefined;
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    return backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

const segmentSumKernel: NativeKernel = {
  kernelName: tf.UnsortedSegmentSum,
  run({ inputs, attrs }, backend) {
    const { addon } = backend;
    const { x, segmentIds } = inputs;
    const numSegments = attrs?.numSegments;
    if (!x || !segmentIds || typeof numSegments !== 'number') return undefined;
    const xv = floatValues(backend, x);
    const ids = int32Values(backend, segmentIds);
    const idRank = segmentIds.shape.length;
    // Rank-1 ids only: tfjs's cpu kernel sums over axis 0 alone, so other ranks keep its exact behaviour.
    if (!xv || !ids || idRank !== 1 || x.shape.length < 1 || segmentIds.shape[0] !== x.shape[0]) return undefined;
    const innerShape = x.shape.slice(idRank);
    const inner = util.sizeFromShape(innerShape);
    if (ids.length === 0 || inner === 0) return undefined;
    const out = backend.allocFloat32(numSegments * inner);
    addon.segmentSum(xv, ids, out, inner, numSegments);
    return backend.makeTensorInfo([numSegments, ...innerShape], 'float32', out);
  },
};

/** Concat of float32 / int32 tensors: one typed-array copy per input and outer index. */
const concatKernel: NativeKernel = {
  kernelName: tf.Concat,
  run({ inputs, attrs }, backend) {
    // Concat's inputs are an array (typed as a map).
    const all = Object.keys(inputs)
      .sort((a, b) => Number(a) - Number(b))
      .map((key) => inputs[key])
      .filter((t): t is TensorInfo => t !== undefined);
    const tensors = all.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (tensors.length < 2) return undefined;
    const dtype = tensors[0].dtype;
    const sources = tensors.map((t) => (t.dtype === dtype ? data32(backend, t) : undefined));
    if (sources.some((src) => !src)) return undefined;
    let axis: number;
    let outShape: number[];
    try {
      axis = util.parseAxisParam(attrs?.axis as number, all[0].shape)[0];
      backend_util.assertParamsConsistent(
        all.map((t) => t.shape),
        axis,
      );
      outShape = backend_util.computeOutShape(
        all.map((t) => t.shape),
        axis,
      );
    } catch {
      return undefined;
    }
    const outer = util.sizeFromShape(outShape.slice(0, axis));
    const chunks = tensors.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    const rowLength = chunks.reduce((a, b) => a + b, 0);
    const out = sources[0]!.make(outer * rowLength);
    for (let o = 0; o < outer; o += 1) {
      let offset = o * rowLength;
      sources.forEach((src, i) => {
        const chunk = chunks[i];
        out.set(src!.values.subarray(o * chunk, (o + 1) * chunk), offset);
        offset += chunk;
      });
    }
    return backend.makeTensorInfo(outShape, dtype, out);
  },
};

export const layoutKernels: NativeKernel[] = [transposeKernel, gatherKernel, segmentSumKernel, concatKernel];
