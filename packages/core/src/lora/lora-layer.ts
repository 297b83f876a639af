import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { Module } from '../nn/module.js';
import type { Site, SiteModule } from '../nn/site.js';
import { LORA_INITS, type LoraInit } from './init.js';

export interface LoraOptions {
  r: number;
  alpha: number;
  /** rsLoRA scaling alpha/√r instead of alpha/r. */
  rslora?: boolean;
  /** Dropout on the LoRA path's input, training only (PEFT's lora_dropout). */
  dropout?: number;
  /** DoRA: a trainable magnitude per output (PEFT's use_dora / lora_magnitude_vector). Linear sites only. */
  dora?: boolean;
  /** How A and B start (PEFT's init_lora_weights); default kaiming. Non-kaiming inits: Linear sites only. */
  init?: LoraInit;
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
  readonly dora: boolean;
  readonly init: LoraInit;
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
    this.dora = options.dora ?? false;
    this.init = options.init ?? 'kaiming';
    if (!LORA_INITS.includes(this.init)) throw new Error(`LoRA init must be one of ${LORA_INITS.join(', ')}, got ${JSON.stringify(this.init)}`);
    this.scaling = loraScaling(options);
    this.addModule('base', base);
  }

  /**
   * For layer types that implement only plain LoRA (Conv2d, Embedding): refuses DoRA and non-kaiming inits, which
   * rankwise implements for Linear sites only.
   */
  protected requirePlainLora(siteKind: string): void {
    if (this.dora) throw new Error(`DoRA (dora: true) is supported on Linear sites only, not on ${siteKind} sites`);
    if (this.init !== 'kaiming') {
      throw new Error(`LoRA init "${this.init}" is supported on Linear sites only; ${siteKind} sites use PEFT's default init ("kaiming")`);
    }
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

  /** DoRA's m: [out]; null without DoRA (always null outside LoraLinear). */
  get magnitude(): tf.Variable | null {
    return this.optionalParam('lora_magnitude_vector');
  }

  /** scaling·A·B in the base weight's shape. Caller disposes. */
  delta(): tf.Tensor {
    return tf.tidy(() => tf.matMul(this.loraA, this.loraB).mul(this.scaling).reshape(this.base.weight.shape)); // [fanIn, r]·[r, out]
  }

  /** The weight this layer computes with, W + scaling·A·B in W's shape. Caller disposes. */
  mergedWeight(): tf.Tensor {
    const weight = this.base.weight;
    if (this.merged) return weight.clone();
    return tf.tidy(() => weight.add(this.delta()));
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

  /** Disposes A and B (the base layer is left to its owner). */
  disposeAdapter(): void {
    this.loraA.dispose();
    this.loraB.dispose();
  }

  describeSite(path: string): Site {
    return { ...this.base.describeSite(path), adapted: true };
  }
}
