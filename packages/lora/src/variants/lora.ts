import * as tf from '@tensorflow/tfjs';
import type { LoraVariant } from './types.js';

/** ΔW = s·A·B: [in, r]·[r, out] → [in, out]. */
const delta = (a: tf.Tensor, b: tf.Tensor, scaling: number): tf.Tensor2D => tf.matMul(a, b).mul(scaling) as tf.Tensor2D;

/** Plain LoRA (Hu et al. 2021): y = x·W + b + s·(x_d·A)·B; merged, W ← W + s·A·B. The default variant. */
export const plainLora = {
  name: 'lora',
  label: 'LoRA',
  option: null,
  peft: null,
  linearOnly: false,
  tensors: [],
  init: () => ({}),
  forward({ xd, y, adapter }) {
    const down = tf.matMul(xd, adapter.a).mul(adapter.scaling); // [N, in]·[in, r] → [N, r]
    return y.add(tf.matMul(down, adapter.b)); // [N, r]·[r, out] → [N, out]
  },
  merge: (weight, adapter) => ({ weight: weight.add(delta(adapter.a, adapter.b, adapter.scaling)), state: null }),
  unmerge: (weight, adapter) => weight.sub(delta(adapter.a, adapter.b, adapter.scaling)),
} as const satisfies LoraVariant;
