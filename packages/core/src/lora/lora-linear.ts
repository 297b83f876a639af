import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { seededDropout } from '../nn/dropout.js';
import { kaimingUniform } from '../nn/init.js';
import { flattenLeading, unflattenLeading, type Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import type { Site, SiteModule } from '../nn/site.js';

export interface LoraOptions {
  r: number;
  alpha: number;
  /** rsLoRA scaling alpha/√r instead of alpha/r. */
  rslora?: boolean;
  /** Dropout on the LoRA path's input, training only (PEFT's lora_dropout). */
  dropout?: number;
}

export function loraScaling(options: Pick<LoraOptions, 'r' | 'alpha' | 'rslora'>): number {
  return options.rslora ? options.alpha / Math.sqrt(options.r) : options.alpha / options.r;
}

/**
 * y = x·W + b + scaling·(dropout(x)·A)·B around a frozen Linear.
 * A: [in, r] Kaiming-uniform, B: [r, out] zeros, so a fresh adapter leaves outputs unchanged.
 */
export class LoraLinear extends Module implements SiteModule {
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly dropout: number;
  readonly scaling: number;
  /** True while scaling·A·B is folded into W (forward then skips the LoRA path). */
  merged = false;

  constructor(
    base: Linear,
    options: LoraOptions,
    private readonly rng: Rng,
  ) {
    super();
    const { r, alpha } = options;
    if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank r must be a positive integer, got ${r}`);
    if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`LoRA alpha must be a positive number, got ${alpha}`);
    this.r = r;
    this.alpha = alpha;
    this.rslora = options.rslora ?? false;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${this.dropout}`);
    this.scaling = loraScaling(options);
    this.addModule('base', base);
    this.addParameter('lora_A', kaimingUniform([base.inFeatures, r], base.inFeatures, rng.fork('lora_A')));
    this.addParameter('lora_B', tf.zeros([r, base.outFeatures]));
  }

  get base(): Linear {
    return this.child<Linear>('base');
  }

  /** [in, r] */
  get loraA(): tf.Variable {
    return this.param('lora_A');
  }

  /** [r, out] */
  get loraB(): tf.Variable {
    return this.param('lora_B');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.forward(x); // [..., out]
      if (this.merged) return y;
      const x2 = seededDropout(flattenLeading(x), this.dropout, this.rng, this.training); // [N, in]
      const down = tf.matMul(x2, this.loraA).mul(this.scaling); // [N, in]·[in, r] → [N, r]
      const up = tf.matMul(down, this.loraB); // [N, r]·[r, out] → [N, out]
      return y.add(unflattenLeading(up, x));
    });
  }

  /** scaling·A·B: [in, out]. Caller disposes. */
  delta(): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.loraA, this.loraB).mul(this.scaling)); // [in, r]·[r, out]
  }

  /** Folds scaling·A·B into W; forward then costs what the base costs. */
  merge(): void {
    if (this.merged) return;
    const weight = this.base.weight;
    tf.tidy(() => weight.assign(weight.add(this.delta())));
    this.merged = true;
  }

  /** Takes scaling·A·B back out of W. */
  unmerge(): void {
    if (!this.merged) return;
    const weight = this.base.weight;
    tf.tidy(() => weight.assign(weight.sub(this.delta())));
    this.merged = false;
  }

  describeSite(path: string): Site {
    return { ...this.base.describeSite(path), adapted: true };
  }
}
