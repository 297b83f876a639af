import * as tf from '@tensorflow/tfjs';
import type { LoraKind } from '@rankwise/lora';

/** The factors of one adapted site, rankwise layout: A [fanIn, r], B [r, out]. */
export interface FactorLayout {
  path: string;
  r: number;
  /** Default 'linear'. */
  kind?: LoraKind;
  /** conv2d: [kh, kw]; A's rows are (kh, kw, in) flattened, tfjs kernel order. */
  kernelSize?: [number, number];
  a: tf.Tensor;
  b: tf.Tensor;
}

/**
 * PEFT's tensor names and layouts (what `get_peft_model_state_dict` writes), made inside the caller's tidy:
 * - linear:    `<p>.lora_A.weight` Aᵀ [r, in], `<p>.lora_B.weight` Bᵀ [out, r];
 * - conv2d:    `<p>.lora_A.weight` [r, in, kh, kw] (PyTorch's Conv2d weight layout), `<p>.lora_B.weight` [out, r, 1, 1];
 * - embedding: `<p>.lora_embedding_A` Aᵀ [r, n], `<p>.lora_embedding_B` Bᵀ [d, r] (parameters, no `.weight`).
 */
export function peftTensors(site: FactorLayout, prefix: string): Array<{ name: string; tensor: tf.Tensor }> {
  const p = `${prefix}${site.path}`;
  const kind = site.kind ?? 'linear';
  if (kind === 'embedding') {
    return [
      { name: `${p}.lora_embedding_A`, tensor: site.a.transpose() }, // [n, r] → [r, n]
      { name: `${p}.lora_embedding_B`, tensor: site.b.transpose() }, // [r, d] → [d, r]
    ];
  }
  if (kind === 'conv2d') {
    const [kh, kw] = site.kernelSize!;
    const out = site.b.shape[1] as number;
    const inChannels = site.a.shape[0] / (kh * kw);
    return [
      { name: `${p}.lora_A.weight`, tensor: site.a.reshape([kh, kw, inChannels, site.r]).transpose([3, 2, 0, 1]) }, // [kh, kw, in, r] → [r, in, kh, kw]
      { name: `${p}.lora_B.weight`, tensor: site.b.transpose().reshape([out, site.r, 1, 1]) }, // [r, out] → [out, r, 1, 1]
    ];
  }
  return [
    { name: `${p}.lora_A.weight`, tensor: site.a.transpose() }, // [in, r] → [r, in]
    { name: `${p}.lora_B.weight`, tensor: site.b.transpose() }, // [r, out] → [out, r]
  ];
}

/** PEFT's stored factors back in rankwise layout: A [fanIn, r], B [r, out]. Made inside the caller's tidy. */
export function fromPeftLayout(site: {
  kind: LoraKind;
  r: number;
  inFeatures: number;
  outFeatures: number;
  kernelSize?: [number, number];
  loraA: Float32Array;
  loraB: Float32Array;
}): { a: tf.Tensor2D; b: tf.Tensor2D } {
  const { r, inFeatures: n, outFeatures: out } = site;
  if (site.kind === 'conv2d') {
    const [kh, kw] = site.kernelSize!;
    const a = tf
      .tensor4d(site.loraA, [r, n, kh, kw])
      .transpose([2, 3, 1, 0])
      .reshape([kh * kw * n, r]) as tf.Tensor2D; // [r, in, kh, kw] → [kh·kw·in, r]
    return { a, b: tf.tensor2d(site.loraB, [out, r]).transpose() }; // [out, r, 1, 1] → [r, out]
  }
  return {
    a: tf.tensor2d(site.loraA, [r, n]).transpose(), // [r, in] → [in, r]
    b: tf.tensor2d(site.loraB, [out, r]).transpose(), // [out, r] → [r, out]
  };
}
