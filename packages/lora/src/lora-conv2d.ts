import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@rankwise/models';
import { convolve, type Conv2d } from '@rankwise/models';
import { seededDropout } from '@rankwise/models';
import { kaimingUniform } from '@rankwise/models';
import { DEFAULT_ADAPTER, LoraLayer, type LoraAdapter, type LoraOptions, type ResolvedLoraOptions } from './lora-layer.js';

/**
 * PEFT's LoRA for convolutions around a frozen Conv2d (kernel [kh, kw, in, out]):
 *   y = conv(x, W) + b + Σ scaling·conv1×1(conv(dropout(x), A), B)   (over the active adapters)
 * A is a convolution from `in` to `r` channels with the layer's kernel size, strides, padding and dilation; B a 1×1
 * convolution from `r` to `out`. Both are kept as matrices, A: [kh·kw·in, r] (Kaiming-uniform, fan_in = kh·kw·in as
 * PyTorch's Conv2d) and B: [r, out] (zeros), so ΔW = scaling·A·B reshaped to [kh, kw, in, out] — the same kernel
 * PEFT's merge folds in (conv of A's weight by B's).
 */
export class LoraConv2d extends LoraLayer {
  readonly kind = 'conv2d';

  constructor(base: Conv2d, options: LoraOptions, rng: Rng, name: string = DEFAULT_ADAPTER) {
    super(base);
    this.addAdapter(name, options, rng);
  }

  protected get siteKind(): string {
    return 'Conv2d';
  }

  protected get outFeatures(): number {
    return this.base.outChannels;
  }

  protected initialFactors(options: ResolvedLoraOptions, rng: Rng): { a: tf.Tensor; b: tf.Tensor } {
    const [kh, kw] = this.base.geometry.kernelSize;
    const fanIn = kh * kw * this.base.inChannels;
    return { a: kaimingUniform([fanIn, options.r], fanIn, rng.fork('lora_A')), b: tf.zeros([options.r, this.base.outChannels]) };
  }

  override get base(): Conv2d {
    return this.child<Conv2d>('base');
  }

  /** An adapter's A as a convolution kernel: [kh, kw, in, r] (the primary adapter's by default). */
  kernelA(adapter: LoraAdapter = this.primary): tf.Tensor4D {
    const [kh, kw] = this.base.geometry.kernelSize;
    return adapter.a.reshape([kh, kw, this.base.inChannels, adapter.r]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = this.base.forward(x); // [B, H', W', out]
      if (this.merged) return y;
      for (const adapter of this.activeList()) {
        const dropped = seededDropout(x, adapter.dropout, adapter.rng, this.training); // [B, H, W, in]
        const down = convolve(dropped, this.kernelA(adapter), this.base.geometry).mul(adapter.scaling); // conv A: [B, H', W', r]
        const [b, h, w] = down.shape;
        const up = tf.matMul(down.reshape([-1, adapter.r]), adapter.b); // 1×1 conv B: [B·H'·W', r]·[r, out]
        y = y.add(up.reshape([b, h, w, this.base.outChannels]));
      }
      return y;
    });
  }
}
