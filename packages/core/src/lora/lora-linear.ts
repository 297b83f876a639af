import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { seededDropout } from '../nn/dropout.js';
import { kaimingUniform, normal } from '../nn/init.js';
import { flattenLeading, unflattenLeading, type Linear } from '../nn/linear.js';
import { detachedWeightNorm, doraMergedWeight, doraOutput, doraUnmergedWeight, weightNorm } from './dora.js';
import { initialFactors, initMovesBase } from './init.js';
import { LoraLayer, type LoraOptions } from './lora-layer.js';

export { loraScaling, type LoraOptions } from './lora-layer.js';

/** A and B as the init left them (PiSSA / OLoRA), rankwise layout, for saving relative to the original W. */
export interface InitialAdapter {
  /** A: [in, r] row-major. */
  a: Float32Array;
  /** B: [r, out] row-major. */
  b: Float32Array;
}

/**
 * y = x·W + b + scaling·(dropout(x)·A)·B around a frozen Linear.
 * Kaiming / gaussian init: A random, B = 0, so a fresh adapter leaves outputs unchanged. PiSSA / OLoRA (after
 * `initializeFromBase`): A·B holds part of W and the base the residual, so outputs are unchanged up to rounding.
 * DoRA: y = x·W' + b with W' = m ⊙ (W + s·A·B) / ‖W + s·A·B‖ (see dora.ts), m starting at ‖W + s·A·B‖.
 */
export class LoraLinear extends LoraLayer {
  readonly kind = 'linear';
  /** PiSSA / OLoRA: the factors the init produced (W = residual + s·A₀·B₀); null for other inits or before init. */
  initial: InitialAdapter | null = null;
  /** DoRA: ‖W + s·A·B‖ at merge time, to unmerge exactly. */
  private mergeNorm: tf.Tensor1D | null = null;
  private pendingInit: boolean;

  constructor(base: Linear, options: LoraOptions, rng: Rng) {
    super(base, options, rng);
    const r = this.r;
    const k = Math.min(base.inFeatures, base.outFeatures);
    if (initMovesBase(this.init) && r > k) {
      throw new Error(`${this.init} init needs r ≤ min(in, out) = ${k} for a [${base.inFeatures}, ${base.outFeatures}] weight, got r = ${r}`);
    }
    this.pendingInit = initMovesBase(this.init);
    const aInit = this.init === 'gaussian'
      ? normal([base.inFeatures, r], 1 / r, rng.fork('lora_A')) // PEFT: nn.init.normal_(lora_A, std=1/r)
      : kaimingUniform([base.inFeatures, r], base.inFeatures, rng.fork('lora_A'));
    this.addParameter('lora_A', aInit);
    this.addParameter('lora_B', tf.zeros([r, base.outFeatures]));
    if (this.dora) this.addParameter('lora_magnitude_vector', weightNorm(base.weight as tf.Tensor2D, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, this.scaling));
  }

  override get base(): Linear {
    return this.child<Linear>('base');
  }

  /** True until a PiSSA / OLoRA layer has run `initializeFromBase`. */
  get needsInit(): boolean {
    return this.pendingInit;
  }

  /**
   * PiSSA / OLoRA: reads W, computes A, B and the residual in float64 (init.ts), puts the residual in the base and
   * A, B in the adapter, keeps A₀, B₀ for saving, and (DoRA) resets m to ‖W_res + s·A·B‖, as PEFT does after init.
   */
  async initializeFromBase(): Promise<void> {
    if (!this.pendingInit) return;
    const { inFeatures, outFeatures } = this.base;
    const w = await this.base.weight.data();
    const init = initialFactors(this.init as 'pissa' | 'olora', w, inFeatures, outFeatures, this.r, this.scaling);
    const a = Float32Array.from(init.a);
    const b = Float32Array.from(init.b);
    tf.tidy(() => {
      this.loraA.assign(tf.tensor2d(a, [inFeatures, this.r]));
      this.loraB.assign(tf.tensor2d(b, [this.r, outFeatures]));
      this.base.weight.assign(tf.tensor2d(Float32Array.from(init.residual), [inFeatures, outFeatures]));
      this.magnitude?.assign(weightNorm(this.base.weight as tf.Tensor2D, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, this.scaling));
    });
    this.initial = { a, b };
    this.pendingInit = false;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.pendingInit) throw new Error(`LoRA layer with ${this.init} init used before initializeFromBase() (use injectAdapters, which awaits it)`);
    return tf.tidy(() => {
      const y = this.base.forward(x); // [..., out]
      if (this.merged) return y;
      const x2 = flattenLeading(x); // [N, in]
      const xd = seededDropout(x2, this.dropout, this.rng, this.training); // [N, in]
      const magnitude = this.magnitude;
      if (!magnitude) {
        const down = tf.matMul(xd, this.loraA).mul(this.scaling); // [N, in]·[in, r] → [N, r]
        const up = tf.matMul(down, this.loraB); // [N, r]·[r, out] → [N, out]
        return y.add(unflattenLeading(up, x));
      }
      const w = this.base.weight as tf.Tensor2D;
      const yFlat = flattenLeading(y); // [N, out]
      const bias = this.base.bias;
      // PEFT reuses the base output (minus bias) when x_d = x, and recomputes x_d·W when dropout changed x.
      const baseResult = xd !== x2 ? tf.matMul(xd, w) : bias ? yFlat.sub(bias) : yFlat; // [N, in]·[in, out] → [N, out]
      const lora = tf.matMul(tf.matMul(xd, this.loraA), this.loraB); // [N, in]·[in, r]·[r, out] → [N, out]
      const norm = detachedWeightNorm(w, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, this.scaling);
      const out = doraOutput({ baseOutput: yFlat as tf.Tensor2D, baseResult: baseResult as tf.Tensor2D, lora: lora as tf.Tensor2D, magnitude: magnitude as tf.Tensor1D, norm, scaling: this.scaling });
      return unflattenLeading(out, x);
    });
  }

  /** scaling·A·B: [in, out] (the LoRA part; with DoRA the merged weight also rescales columns). Caller disposes. */
  override delta(): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.loraA, this.loraB).mul(this.scaling)); // [in, r]·[r, out]
  }

  /** The weight this layer computes with: W + s·A·B, or DoRA's m ⊙ (W + s·A·B) / ‖W + s·A·B‖. Caller disposes. */
  override mergedWeight(): tf.Tensor2D {
    const w = this.base.weight as tf.Tensor2D;
    if (this.merged) return w.clone();
    const magnitude = this.magnitude;
    if (!magnitude) return tf.tidy(() => w.add(this.delta()));
    const { weight, norm } = doraMergedWeight(w, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, magnitude as tf.Tensor1D, this.scaling);
    norm.dispose();
    return weight;
  }

  /** Folds the adapter into W; forward then costs what the base costs. */
  override merge(): void {
    if (this.merged) return;
    const weight = this.base.weight;
    const magnitude = this.magnitude;
    if (magnitude) {
      const merged = doraMergedWeight(weight as tf.Tensor2D, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, magnitude as tf.Tensor1D, this.scaling);
      weight.assign(merged.weight);
      merged.weight.dispose();
      this.mergeNorm = merged.norm;
    } else {
      tf.tidy(() => weight.assign(weight.add(this.delta())));
    }
    this.merged = true;
  }

  /** Takes the adapter back out of W. */
  override unmerge(): void {
    if (!this.merged) return;
    const weight = this.base.weight;
    const magnitude = this.magnitude;
    if (magnitude && this.mergeNorm) {
      const norm = this.mergeNorm;
      tf.tidy(() => weight.assign(doraUnmergedWeight(weight as tf.Tensor2D, this.loraA as tf.Tensor2D, this.loraB as tf.Tensor2D, magnitude as tf.Tensor1D, norm, this.scaling)));
      norm.dispose();
      this.mergeNorm = null;
    } else {
      tf.tidy(() => weight.assign(weight.sub(this.delta())));
    }
    this.merged = false;
  }

  /** Disposes A, B, m and the merge-time norm (the base layer is left to its owner). */
  override disposeAdapter(): void {
    this.loraA.dispose();
    this.loraB.dispose();
    this.magnitude?.dispose();
    this.mergeNorm?.dispose();
    this.mergeNorm = null;
  }
}
