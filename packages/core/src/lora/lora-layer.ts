import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
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

/** A site module LoRA can wrap: its frozen weight is `weight`, whatever its shape. */
export type AdaptableModule = Module & SiteModule & { readonly weight: tf.Variable };

/** How PEFT stores a layer's factors: `lora_A`/`lora_B` (Linear, Conv2d) or `lora_embedding_A`/`_B` (Embedding). */
export type LoraKind = 'linear' | 'conv2d' | 'embedding';

/**
 * What every LoRA layer shares: factors A [fanIn, r] and B [r, out] (2-D, so ΔW = scaling·A·B is one matmul for
 * every layer type; `delta()` reshapes it to the base weight's shape), merge and unmerge into the base weight.
 */
export abstract class LoraLayer extends Module implements SiteModule {
  abstract readonly kind: LoraKind;
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly dropout: number;
  readonly scaling: number;
  /** True while scaling·A·B is folded into W (forward then skips the LoRA path). */
  merged = false;

  constructor(
    base: AdaptableModule,
    options: LoraOptions,
    protected readonly rng: Rng,
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
  }

  get base(): AdaptableModule {
    return this.child<AdaptableModule>('base');
  }

  /** [fanIn, r] */
  get loraA(): tf.Variable {
    return this.param('lora_A');
  }

  /** [r, out] */
  get loraB(): tf.Variable {
    return this.param('lora_B');
  }

  /** scaling·A·B in the base weight's shape. Caller disposes. */
  delta(): tf.Tensor {
    return tf.tidy(() => tf.matMul(this.loraA, this.loraB).mul(this.scaling).reshape(this.base.weight.shape)); // [fanIn, r]·[r, out]
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
