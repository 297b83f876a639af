import * as tf from '@tensorflow/tfjs';
import type { AdapterSite } from './peft-adapter.js';

/**
 * A PiSSA / OLoRA adapter made relative to the original weight, as PEFT's
 * `save_pretrained(path_initial_model_for_weight_conversion=…)` does (its `subtract_mutated_init`). The model computes
 * with W_res + s·A·B where W_res = W − s·A₀·B₀, i.e. W + s·(A·B − A₀·B₀) = W + s·A'·B' with
 *   A' = [A | A₀] : [in, 2r],  B' = [B ; −B₀] : [2r, out]
 * (PEFT layout: lora_A = cat([A, A₀]ᵀ, dim 0) [2r, in], lora_B = cat([B, −B₀]ᵀ, dim 1) [out, 2r]). The rank doubles;
 * alpha doubles too (×√2 with rsLoRA) so the scaling s is unchanged. A DoRA magnitude is kept as it is: DoRA
 * normalises W_res + s·A·B = W + s·A'·B', the same matrix (PEFT's conversion drops the magnitude; rankwise keeps it so
 * the file reproduces the model). Sites without initial factors are returned unchanged.
 */
export function toOriginalBase(site: AdapterSite): { site: AdapterSite; converted: boolean } {
  const initial = site.initial;
  if (!initial) return { site, converted: false };
  const [inFeatures, r] = site.a.shape as [number, number];
  const outFeatures = site.b.shape[1] as number;
  const [a, b] = tf.tidy(() => [
    tf.concat([site.a, tf.tensor2d(initial.a, [inFeatures, r])], 1), // [in, r] | [in, r] → [in, 2r]
    tf.concat([site.b, tf.tensor2d(initial.b, [r, outFeatures]).neg()], 0), // [r, out] ; [r, out] → [2r, out]
  ]);
  const alpha = site.rslora ? site.alpha * Math.SQRT2 : site.alpha * 2;
  return { site: { ...site, r: 2 * r, alpha, a, b, init: 'kaiming', initial: null }, converted: true };
}
