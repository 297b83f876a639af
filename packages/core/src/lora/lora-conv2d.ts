import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { convolve, type Conv2d } from '../nn/conv2d.js';
import { seededDropout } from '../nn/dropout.js';
import { kaimingUniform } from '../nn/init.js';
import { LoraLayer, type LoraOptions } from './lora-layer.js';

/**
 * PEFT's LoRA for convolutions around a frozen Conv2d (kernel [kh, kw, in, out]):
 *   y = conv(x, W) + b + scaling·conv1×1(conv(dropout(x), A), B)
 * A is a convolution from `in` to `r` channels with the layer's kernel size, strides, padding and dilation; B a 1×1
 * convolution from `r` to `out`. Both are kept as matrices, A: [kh·kw·in, r] (Kaiming-uniform, fan_in = kh·kw·in as
 * PyTorch's Conv2d) and B: [r, out] (zeros), so ΔW = scaling·A·B reshaped to [kh, kw, in, out] — the same kernel
 * PEFT's merge folds in (conv of A's weight by B's).
 */
export class LoraConv2d extends LoraLayer {
  readonly kind = 'conv2d';

  constructor(base: Conv2d, options: LoraOptions, rng: Rng) {
    super(base, options, rng);
    this.requirePlainLora('Conv2d');
    const [kh, kw] = base.geometry.kernelSize;
    const fanIn = kh * kw * base.inChannels;
    this.addParameter('lora_A', kaimingUniform([fanIn, this.r], fanIn, rng.fork('lora_A')));
    this.addParameter('lora_B', tf.zeros([this.r, base.outChannels]));
  }

  override get base(): Conv2d {
    return this.child<Conv2d>('base');
  }

  /** A as a convolution kernel: [kh, kw, in, r]. */
  kernelA(): tf.Tensor4D {
    const [kh, kw] = this.base.geometry.kernelSize;
    return this.loraA.reshape([kh, kw, this.base.inChannels, this.r]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.forward(x); // [B, H', W', out]
      if (this.merged) return y;
      const dropped = seededDropout(x, this.dropout, this.rng, this.training); // [B, H, W, in]
      const down = convolve(dropped, this.kernelA(), this.base.geometry).mul(this.scaling); // conv A: [B, H', W', r]
      const [b, h, w] = down.shape;
      const up = tf.matMul(down.reshape([-1, this.r]), this.loraB); // 1×1 conv B: [B·H'·W', r]·[r, out]
      return y.add(up.reshape([b, h, w, this.base.outChannels]));
    });
  }
}
