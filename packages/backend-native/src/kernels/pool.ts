/**
 * MaxPoolGrad (NHWC): each output's gradient goes to the first position holding its window's maximum, as tfjs's cpu
 * kernel does it — in one pass over the windows (the cpu kernel rebuilds arg-max positions through TensorBuffer
 * accessors, ~3 µs per element, the slowest step of a small CNN's backward pass).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { floatOutput, floatValues, type KernelArgs, type NativeKernel } from './context.js';

type PoolAttrs = {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

const maxPoolGrad: NativeKernel = {
  kernelName: tf.MaxPoolGrad,
  run({ inputs, attrs }: KernelArgs, backend) {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as PoolAttrs;
    const xv = floatValues(backend, input);
    const dyv = floatValues(backend, dy);
    if (!xv || !dyv || input.shape.length !== 4) return undefined;
    const c = backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = c;
    const { top, left } = c.padInfo;
    const dx = backend.allocFloat32(xv.length);
    dx.fill(0);
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      const base = b * inHeight * inWidth * inChannels;
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          for (let ch = 0; ch < inChannels; ch++, o++) {
            let best = -Infinity;
            let at = -1;
            for (let i = 0; i < filterHeight; i++) {
              const y = oy * strideHeight + i - top;
              if (y < 0 || y >= inHeight) continue;
              for (let j = 0; j < filterWidth; j++) {
                const x = ox * strideWidth + j - left;
                if (x < 0 || x >= inWidth) continue;
                const k = base + (y * inWidth + x) * inChannels + ch;
                if (xv[k] > best || at < 0) {
                  best = xv[k];
                  at = k;
                }
              }
            }
            if (at >= 0) dx[at] += dyv[o];
          }
        }
      }
    }
    return floatOutput(backend, input.shape, dx);
  },
};

export const poolKernels: NativeKernel[] = [maxPoolGrad];
