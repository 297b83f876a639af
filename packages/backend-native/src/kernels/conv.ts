/**
 * Conv2D and its two gradients (NHWC) as im2col + cblas_sgemm. tfjs's cpu kernels are direct loops; its
 * Conv2DBackpropFilter takes seconds for one batch of a small CNN, which made tfjs Conv2D training unusable here.
 *   y  = patches · W            patches [N, K] (N = B·H'·W', K = kh·kw·in), W [K, out]
 *   dW = patchesᵀ · dy
 *   dx = col2im(dy · Wᵀ)
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { floatOutput, floatValues, type KernelArgs, type NativeKernel } from './context.js';

/** Above this many patch values the cpu kernel keeps the call (im2col would cost too much memory). */
const MAX_PATCH_VALUES = 64 * 1024 * 1024;

type Conv2DAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function convInfo(xShape: number[], filterShape: number[], attrs: Conv2DAttrs): backend_util.Conv2DInfo | undefined {
  if (attrs.dataFormat !== 'NHWC') return undefined;
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const n = info.batchSize * info.outHeight * info.outWidth;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  return n * k > MAX_PATCH_VALUES || n * k === 0 ? undefined : info;
}

/** x [B, H, W, C] → patches [B·H'·W', kh·kw·C], zero where a window reads padding. */
function im2col(x: Float32Array, c: backend_util.Conv2DInfo, out: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } =
    c;
  const { top, left } = c.padInfo;
  const k = filterHeight * filterWidth * inChannels;
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * inChannels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        let col = row * k;
        for (let i = 0; i < filterHeight; i++) {
          const y = oy * strideHeight + i * dilationHeight - top;
          for (let j = 0; j < filterWidth; j++, col += inChannels) {
            const xx = ox * strideWidth + j * dilationWidth - left;
            if (y < 0 || y >= inHeight || xx < 0 || xx >= inWidth) {
              for (let ch = 0; ch < inChannels; ch++) out[col + ch] = 0;
            } else {
              const src = xb + (y * inWidth + xx) * inChannels;
              for (let ch = 0; ch < inChannels; ch++) out[col + ch] = x[src + ch];
            }
          }
        }
      }
    }
  }
}

/** The reverse of im2col: adds each patch value back onto the input position it came from. */
function col2im(patches: Float32Array, c: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } =
    c;
  const { top, left } = c.padInfo;
  const k = filterHeight * filterWidth * inChannels;
  dx.fill(0);
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * inChannels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        let col = row * k;
        for (let i = 0; i < filterHeight; i++) {
          const y = oy * strideHeight + i * dilationHeight - top;
          for (let j = 0; j < filterWidth; j++, col += inChannels) {
            const xx = ox * strideWidth + j * dilationWidth - left;
            if (y < 0 || y >= inHeight || xx < 0 || xx >= inWidth) continue;
            const dst = xb + (y * inWidth + xx) * inChannels;
            for (let ch = 0; ch < inChannels; ch++) dx[dst + ch] += patches[col + ch];
          }
        }
      }
    }
  }
}

function patchesOf(backend: NativeBackend, x: Float32Array, c: backend_util.Conv2DInfo): { values: Float32Array; n: number; k: number } {
  const n = c.batchSize * c.outHeight * c.outWidth;
  const k = c.filterHeight * c.filterWidth * c.inChannels;
  const values = new Float32Array(n * k);
  im2col(x, c, values);
  return { values, n, k };
}

const conv2D: NativeKernel = {
  kernelName: tf.Conv2D,
  run({ inputs, attrs }: KernelArgs, backend) {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const info = convInfo(x.shape, filter.shape, attrs as unknown as Conv2DAttrs);
    const xv = floatValues(backend, x);
    const wv = floatValues(backend, filter);
    if (!info || !xv || !wv) return undefined;
    const { values: patches, n, k } = patchesOf(backend, xv, info);
    const y = backend.allocFloat32(n * info.outChannels);
    backend.addon.sgemm(false, false, n, info.outChannels, k, patches, wv, y, 1, 1, 1); // [N, K]·[K, out]
    return floatOutput(backend, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], y);
  },
};

const conv2DBackpropFilter: NativeKernel = {
  kernelName: tf.Conv2DBackpropFilter,
  run({ inputs, attrs }: KernelArgs, backend) {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Conv2DAttrs & { filterShape: [number, number, number, number] };
    const info = convInfo(x.shape, a.filterShape, a);
    const xv = floatValues(backend, x);
    const dyv = floatValues(backend, dy);
    if (!info || !xv || !dyv) return undefined;
    const { values: patches, n, k } = patchesOf(backend, xv, info);
    const dw = backend.allocFloat32(k * info.outChannels);
    backend.addon.sgemm(true, false, k, info.outChannels, n, patches, dyv, dw, 1, 1, 1); // [N, K]ᵀ·[N, out]
    return floatOutput(backend, a.filterShape, dw);
  },
};

const conv2DBackpropInput: NativeKernel = {
  kernelName: tf.Conv2DBackpropInput,
  run({ inputs, attrs }: KernelArgs, backend) {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Conv2DAttrs & { inputShape: [number, number, number, number] };
    const info = convInfo(a.inputShape, filter.shape, a);
    const dyv = floatValues(backend, dy);
    const wv = floatValues(backend, filter);
    if (!info || !dyv || !wv) return undefined;
    const n = info.batchSize * info.outHeight * info.outWidth;
    const k = info.filterHeight * info.filterWidth * info.inChannels;
    const dPatches = new Float32Array(n * k);
    backend.addon.sgemm(false, true, n, k, info.outChannels, dyv, wv, dPatches, 1, 1, 1); // [N, out]·[K, out]ᵀ
    const dx = backend.allocFloat32(a.inputShape.reduce((p, d) => p * d, 1));
    col2im(dPatches, info, dx);
    return floatOutput(backend, a.inputShape, dx);
  },
};

export const convKernels: NativeKernel[] = [conv2D, conv2DBackpropFilter, conv2DBackpropInput];
