import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';
import type { Site, SiteModule } from './site.js';

export interface Conv2dGeometry {
  kernelSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
  dilation: [number, number];
}

export interface Conv2dOptions extends Conv2dGeometry {
  role?: string;
  layer?: number | null;
}

/** TensorFlow's "same" padding: [before, after] for one spatial axis. */
function samePadding(size: number, k: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Output size of one spatial axis. */
export function convOutputSize(size: number, k: number, stride: number, dilation: number, padding: 'valid' | 'same'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - (k - 1) * dilation - 1) / stride) + 1;
}

/** Above this many entries the 0/1 selection matrix is not worth its memory; slices take over. */
const MAX_SELECTION_ENTRIES = 16 * 1024 * 1024;
const selections = new Map<string, Float32Array>();

/**
 * The 0/1 matrix S [H'·W'·kh·kw, H·W] that picks every window position of an H×W map (zero where the window
 * reads padding): patches = S·x per channel. Cached as a plain array (no tensor outlives a call).
 */
function selectionMatrix(h: number, w: number, g: Conv2dGeometry, oh: number, ow: number, top: number, left: number): Float32Array {
  const key = `${h}x${w}/${g.kernelSize}/${g.strides}/${g.dilation}/${g.padding}`;
  let s = selections.get(key);
  if (s) return s;
  const [kh, kw] = g.kernelSize;
  s = new Float32Array(oh * ow * kh * kw * h * w);
  let row = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++, row++) {
          const sy = y * g.strides[0] + i * g.dilation[0] - top;
          const sx = x * g.strides[1] + j * g.dilation[1] - left;
          if (sy >= 0 && sy < h && sx >= 0 && sx < w) s[row * h * w + sy * w + sx] = 1;
        }
      }
    }
  }
  if (selections.size > 32) selections.clear();
  selections.set(key, s);
  return s;
}

/**
 * im2col: x [B, H, W, C] → patches [B, H', W', kh·kw·C], ordered (i, j, c) like a [kh, kw, C, ·] kernel's rows, so
 * a convolution is one matmul. Small maps use a constant 0/1 selection matrix (two matmuls forward and backward);
 * larger ones pads, slices and reshapes. Either way no Conv2DBackpropFilter runs: tfjs's CPU kernel for it is a
 * plain loop (seconds per batch) and the wasm backend has none.
 */
export function extractPatches(x: tf.Tensor4D, g: Conv2dGeometry): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [kh, kw] = g.kernelSize;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilation;
  const oh = convOutputSize(h, kh, sh, dh, g.padding);
  const ow = convOutputSize(w, kw, sw, dw, g.padding);
  const [top, bottom] = g.padding === 'same' ? samePadding(h, kh, sh, dh) : [0, 0];
  const [left, right] = g.padding === 'same' ? samePadding(w, kw, sw, dw) : [0, 0];
  const rows = oh * ow * kh * kw;
  if (rows * h * w <= MAX_SELECTION_ENTRIES) {
    const s = tf.tensor2d(selectionMatrix(h, w, g, oh, ow, top, left), [rows, h * w]);
    const columns = x
      .reshape([b, h * w, c])
      .transpose([1, 0, 2])
      .reshape([h * w, b * c]); // [HW, B·C]
    const picked = tf.matMul(s, columns); // [H'W'·kh·kw, HW]·[HW, B·C] → [H'W'·kh·kw, B·C]
    return picked
      .reshape([oh * ow, kh * kw, b, c])
      .transpose([2, 0, 1, 3])
      .reshape([b, oh, ow, kh * kw * c]);
  }
  // Room for a window at every offset to read oh·sh rows (the strided subsample keeps every sh-th).
  const needH = (kh - 1) * dh + oh * sh;
  const needW = (kw - 1) * dw + ow * sw;
  const padded = tf.pad(x, [
    [0, 0],
    [top, Math.max(needH - h - top, bottom)],
    [left, Math.max(needW - w - left, right)],
    [0, 0],
  ]);
  const columns: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let window = tf.slice(padded, [0, i * dh, j * dw, 0], [b, oh * sh, ow * sw, c]); // [B, oh·sh, ow·sw, C]
      if (sh > 1 || sw > 1) {
        window = window.reshape([b, oh, sh, ow, sw, c]).slice([0, 0, 0, 0, 0, 0], [b, oh, 1, ow, 1, c]).reshape([b, oh, ow, c]);
      }
      columns.push(window);
    }
  }
  return (columns.length === 1 ? columns[0] : tf.concat(columns, 3)) as tf.Tensor4D; // [B, oh, ow, kh·kw·C]
}

/**
 * im2col here only where tfjs's own convolution gradients are missing or slow: the cpu backend (Conv2DBackpropFilter
 * is a plain loop), wasm (no Conv2DBackpropFilter at all) and dilated kernels (tfjs has no gradient for them).
 */
function viaPatches(g: Conv2dGeometry): boolean {
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm' || g.dilation[0] > 1 || g.dilation[1] > 1;
}

/** conv2d with a layer's geometry (NHWC): x [B, H, W, in] * kernel [kh, kw, in, out] → [B, H', W', out]. */
export function convolve(x: tf.Tensor, kernel: tf.Tensor, g: Conv2dGeometry): tf.Tensor4D {
  if (!viaPatches(g)) return tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, g.strides, g.padding, 'NHWC', g.dilation);
  return tf.tidy(() => {
    const patches = extractPatches(x as tf.Tensor4D, g); // [B, H', W', kh·kw·in]
    const [b, oh, ow, k] = patches.shape;
    const out = kernel.shape[3] as number;
    const y = tf.matMul(patches.reshape([-1, k]), kernel.reshape([k, out])); // [B·H'·W', kh·kw·in]·[kh·kw·in, out]
    return y.reshape([b, oh, ow, out]) as tf.Tensor4D;
  });
}

/**
 * A 2-D convolution site (Keras Conv2D, channels last): kernel [kh, kw, in, out] in tfjs layout, optional bias.
 * Built from existing tensors, whose ownership it takes (they are disposed).
 */
export class Conv2d extends Module implements SiteModule {
  readonly role: string;
  readonly layer: number | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly geometry: Conv2dGeometry;

  constructor(kernel: tf.Tensor, bias: tf.Tensor | null, options: Conv2dOptions) {
    super();
    if (kernel.rank !== 4) throw new Error(`Conv2d kernel must be [kh, kw, in, out], got [${kernel.shape.join(', ')}]`);
    const [kh, kw, inChannels, outChannels] = kernel.shape;
    if (kh !== options.kernelSize[0] || kw !== options.kernelSize[1]) {
      throw new Error(`Conv2d kernel [${kernel.shape.join(', ')}] disagrees with kernel size [${options.kernelSize.join(', ')}]`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.role = options.role ?? 'conv2d';
    this.layer = options.layer ?? null;
    this.geometry = { kernelSize: options.kernelSize, strides: options.strides, padding: options.padding, dilation: options.dilation };
    this.addParameter('weight', kernel);
    if (bias) this.addParameter('bias', bias);
  }

  /** [kh, kw, in, out] */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  get bias(): tf.Variable | null {
    return this.optionalParam('bias');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // Plain ops (no fused conv): under a gradient tape tfjs then computes dKernel only where something trains it.
      const y = convolve(x, this.weight, this.geometry); // [B, H, W, in] → [B, H', W', out]
      const bias = this.bias;
      return bias ? y.add(bias) : y;
    });
  }

  describeSite(path: string): Site {
    return { path, inFeatures: this.inChannels, outFeatures: this.outChannels, layer: this.layer, role: this.role, adapted: false };
  }
}
