import * as tf from '@tensorflow/tfjs';
import { detachedWeightNorm, doraMergedWeight, doraOutput, doraUnmergedWeight, weightNorm } from '../dora.js';
import type { LoraVariant } from './types.js';

const MAGNITUDE = 'lora_magnitude_vector';

/**
 * DoRA (Liu et al. 2024; PEFT `use_dora=True`, DoraLinearVariant): the weight becomes W' = m ⊙ (W + s·A·B) / ‖W + s·A·B‖
 * (norm per output, detached in training), m [out] the trainable `lora_magnitude_vector`, starting at ‖W + s·A·B‖.
 * The arithmetic is in ../dora.ts.
 */
export const dora = {
  name: 'dora',
  label: 'DoRA',
  option: {
    key: 'dora',
    description: 'DoRA (PEFT use_dora): a trainable magnitude per output; the weight becomes m · (W + s·A·B) / ‖W + s·A·B‖ (norm per output).',
    gridDescription: 'DoRA: a trainable magnitude per output.',
  },
  peft: { key: 'use_dora', writeWhenOff: true },
  linearOnly: true,
  tensors: [{ key: MAGNITUDE, shape: 'out', what: 'a DoRA magnitude per output' }],
  init: (base, adapter) => ({ [MAGNITUDE]: weightNorm(base.weight, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.scaling) }),
  forward({ x, xd, y, base, adapter }) {
    const { a, b, scaling } = adapter;
    // PEFT reuses the running output (minus bias) when x_d = x, and recomputes x_d·W when dropout changed x.
    const baseResult = xd !== x ? tf.matMul(xd, base.weight) : base.bias ? y.sub(base.bias) : y; // [N, in]·[in, out] → [N, out]
    const lora = tf.matMul(tf.matMul(xd, a), b) as tf.Tensor2D; // [N, in]·[in, r]·[r, out] → [N, out]
    const norm = detachedWeightNorm(base.weight, a as tf.Tensor2D, b as tf.Tensor2D, scaling);
    return doraOutput({ baseOutput: y, baseResult: baseResult as tf.Tensor2D, lora, magnitude: adapter.extras[MAGNITUDE] as tf.Tensor1D, norm, scaling });
  },
  merge(weight, adapter) {
    const merged = doraMergedWeight(weight, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.extras[MAGNITUDE] as tf.Tensor1D, adapter.scaling);
    return { weight: merged.weight, state: merged.norm };
  },
  unmerge(weight, adapter, norm) {
    if (!norm) throw new Error('DoRA unmerge needs the norm kept at merge time');
    return doraUnmergedWeight(
      weight,
      adapter.a as tf.Tensor2D,
      adapter.b as tf.Tensor2D,
      adapter.extras[MAGNITUDE] as tf.Tensor1D,
      norm as tf.Tensor1D,
      adapter.scaling,
    );
  },
} as const satisfies LoraVariant;
