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

/** conv2d with a layer's geometry (NHWC): x [B, H, W, in] * kernel [kh, kw, in, out] → [B, H', W', out]. */
export function convolve(x: tf.Tensor, kernel: tf.Tensor, g: Conv2dGeometry): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, g.strides, g.padding, 'NHWC', g.dilation);
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
