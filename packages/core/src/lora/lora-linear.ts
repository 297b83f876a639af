import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { seededDropout } from '../nn/dropout.js';
import { kaimingUniform, normal } from '../nn/init.js';
import { flattenLeading, unflattenLeading, type Linear } from '../nn/linear.js';
import { detachedWeightNorm, doraMergedWeight, doraOutput, doraUnmergedWeight, weightNorm } from './dora.js';
import { initialFactors, initMovesBase } from './init.js';
import { DEFAULT_ADAPTER, LoraLayer, type LoraAdapter, type LoraOptions, type ResolvedLoraOptions } from './lora-layer.js';

export { loraScaling, type LoraOptions } from './lora-layer.js';

/** A and B as the init left them (PiSSA / OLoRA), rankwise layout, for saving relative to the original W. */
export interface InitialAdapter {
  /** A: [in, r] row-major. */
  a: Float32Array;
  /** B: [r, out] row-major. */
  b: Float32Array;
}

/**
 * y = x·W + b + Σ scaling·(dropout(x)·A)·B around a frozen Linear, the sum over the active adapters (one by default).
 * Kaiming / gaussian init: A random, B = 0, so a fresh adapter leaves outputs unchanged. PiSSA / OLoRA (after
 * `initializeFromBase`): A·B holds part of W and the base the residual, so outputs are unchanged up to rounding.
 * DoRA: y = x·W' + b with W' = m ⊙ (W + s·A·B) / ‖W + s·A·B‖ (see dora.ts), m starting at ‖W + s·A·B‖. With several
 * active adapters a DoRA adapter rescales the running result as PEFT's DoRA variant does (its base result is the
 * running output minus the bias).
 */
export class LoraLinear extends LoraLayer {
  readonly kind = 'linear';
  /** PiSSA / OLoRA: the factors the init produced (W = residual + s·A₀·B₀); null for other inits or before init. */
  initial: InitialAdapter | null = null;
  /** DoRA: ‖W + s·A·B‖ per merged adapter at merge time, to unmerge exactly. */
  private readonly mergeNorms = new Map<string, tf.Tensor1D>();
  /** The PiSSA / OLoRA adapter still waiting for `initializeFromBase` (such an adapter has the layer to itself). */
  private pendingInit: string | null = null;

  constructor(base: Linear, options: LoraOptions, rng: Rng, name: string = DEFAULT_ADAPTER) {
    super(base);
    this.addAdapter(name, options, rng);
  }

  protected get siteKind(): string {
    return 'Linear';
  }

  protected get outFeatures(): number {
    return this.base.outFeatures;
  }

  /** Linear sites allow DoRA and every init; base-moving inits need r ≤ min(in, out). */
  protected override checkOptions(options: ResolvedLoraOptions): void {
    const base = this.base;
    const k = Math.min(base.inFeatures, base.outFeatures);
    if (initMovesBase(options.init) && options.r > k) {
      throw new Error(`${options.init} init needs r ≤ min(in, out) = ${k} for a [${base.inFeatures}, ${base.outFeatures}] weight, got r = ${options.r}`);
    }
  }

  protected initialFactors(options: ResolvedLoraOptions, rng: Rng): { a: tf.Tensor; b: tf.Tensor; magnitude?: tf.Tensor } {
    const base = this.base;
    const r = options.r;
    const a = options.init === 'gaussian'
      ? normal([base.inFeatures, r], 1 / r, rng.fork('lora_A')) // PEFT: nn.init.normal_(lora_A, std=1/r)
      : kaimingUniform([base.inFeatures, r], base.inFeatures, rng.fork('lora_A'));
    const b = tf.zeros([r, base.outFeatures]);
    if (initMovesBase(options.init)) this.pendingInit = '';
    if (!options.dora) return { a, b };
    return { a, b, magnitude: weightNorm(base.weight as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D, options.scaling) };
  }

  override addAdapter(name: string, options: LoraOptions, rng: Rng): LoraAdapter {
    const adapter = super.addAdapter(name, options, rng);
    if (this.pendingInit === '') this.pendingInit = name;
    return adapter;
  }

  override get base(): Linear {
    return this.child<Linear>('base');
  }

  /** True until a PiSSA / OLoRA layer has run `initializeFromBase`. */
  get needsInit(): boolean {
    return this.pendingInit !== null;
  }

  /**
   * PiSSA / OLoRA: reads W, computes A, B and the residual in float64 (init.ts), puts the residual in the base and
   * A, B in the adapter, keeps A₀, B₀ for saving, and (DoRA) resets m to ‖W_res + s·A·B‖, as PEFT does after init.
   */
  async initializeFromBase(): Promise<void> {
    if (this.pendingInit === null) return;
    const adapter = this.adapter(this.pendingInit)!;
    const { inFeatures, outFeatures } = this.base;
    const w = await this.base.weight.data();
    const init = initialFactors(adapter.init as 'pissa' | 'olora', w, inFeatures, outFeatures, adapter.r, adapter.scaling);
    const a = Float32Array.from(init.a);
    const b = Float32Array.from(init.b);
    tf.tidy(() => {
      adapter.a.assign(tf.tensor2d(a, [inFeatures, adapter.r]));
      adapter.b.assign(tf.tensor2d(b, [adapter.r, outFeatures]));
      this.base.weight.assign(tf.tensor2d(Float32Array.from(init.residual), [inFeatures, outFeatures]));
      adapter.magnitude?.assign(weightNorm(this.base.weight as tf.Tensor2D, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.scaling));
    });
    this.initial = { a, b };
    this.pendingInit = null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.pendingInit !== null) throw new Error(`LoRA layer with ${this.init} init used before initializeFromBase() (use injectAdapters, which awaits it)`);
    return tf.tidy(() => {
      let y = this.base.forward(x); // [..., out]
      if (this.merged) return y;
      const x2 = flattenLeading(x); // [N, in]
      const rows = this.rowAdapters;
      if (rows !== null) {
        // PEFT's _mixed_batch_forward: each adapter's output reaches its own rows only (a 0/1 row mask; N = B·T rows)
        const batch = x.shape[0] as number;
        if (rows.length !== batch) throw new Error(`mixed-adapter batch: ${rows.length} adapter names for a batch of ${batch} rows`);
        const perRow = (x2.shape[0] as number) / batch;
        for (const { adapter, rows: mine } of this.rowGroups()) {
          const mask = new Float32Array(batch * perRow);
          for (const b of mine) mask.fill(1, b * perRow, (b + 1) * perRow);
          const xd = seededDropout(x2, adapter.dropout, adapter.rng, this.training); // [N, in]
          const down = tf.matMul(xd, adapter.a).mul(adapter.scaling); // [N, in]·[in, r] → [N, r]
          const up = tf.matMul(down, adapter.b).mul(tf.tensor2d(mask, [batch * perRow, 1])); // [N, r]·[r, out] → [N, out], other rows 0
          y = y.add(unflattenLeading(up, x));
        }
        return y;
      }
      for (const adapter of this.activeList()) {
        const xd = seededDropout(x2, adapter.dropout, adapter.rng, this.training); // [N, in]
        const magnitude = adapter.magnitude;
        if (!magnitude) {
          const down = tf.matMul(xd, adapter.a).mul(adapter.scaling); // [N, in]·[in, r] → [N, r]
          const up = tf.matMul(down, adapter.b); // [N, r]·[r, out] → [N, out]
          y = y.add(unflattenLeading(up, x));
          continue;
        }
        const w = this.base.weight as tf.Tensor2D;
        const yFlat = flattenLeading(y); // [N, out]
        const bias = this.base.bias;
        // PEFT reuses the running output (minus bias) when x_d = x, and recomputes x_d·W when dropout changed x.
        const baseResult = xd !== x2 ? tf.matMul(xd, w) : bias ? yFlat.sub(bias) : yFlat; // [N, in]·[in, out] → [N, out]
        const lora = tf.matMul(tf.matMul(xd, adapter.a), adapter.b); // [N, in]·[in, r]·[r, out] → [N, out]
        const norm = detachedWeightNorm(w, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.scaling);
        const out = doraOutput({ baseOutput: yFlat as tf.Tensor2D, baseResult: baseResult as tf.Tensor2D, lora: lora as tf.Tensor2D, magnitude: magnitude as tf.Tensor1D, norm, scaling: adapter.scaling });
        y = unflattenLeading(out, x);
      }
      return y;
    });
  }

  /** scaling·A·B of one adapter: [in, out] (the LoRA part; with DoRA the merged weight also rescales columns). Caller disposes. */
  override adapterDelta(adapter: LoraAdapter): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(adapter.a, adapter.b).mul(adapter.scaling)); // [in, r]·[r, out]
  }

  /** Σ scaling·A·B over the active adapters: [in, out]. Caller disposes. */
  override delta(): tf.Tensor2D {
    return super.delta() as tf.Tensor2D;
  }

  /**
   * The weight this layer computes with: W + Σ s·A·B, DoRA adapters applied in turn as m ⊙ (W' + s·A·B) / ‖W' + s·A·B‖
   * (what merging would fold in). Caller disposes.
   */
  override mergedWeight(): tf.Tensor2D {
    const w = this.base.weight as tf.Tensor2D;
    if (this.merged) return w.clone();
    return tf.tidy(() => {
      let weight: tf.Tensor2D = w.clone();
      for (const adapter of this.activeList()) {
        if (!adapter.magnitude) {
          weight = weight.add(this.adapterDelta(adapter));
          continue;
        }
        const merged = doraMergedWeight(weight, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.magnitude as tf.Tensor1D, adapter.scaling);
        weight = merged.weight;
      }
      return weight;
    });
  }

  protected override mergeOne(adapter: LoraAdapter): void {
    const weight = this.base.weight;
    if (!adapter.magnitude) {
      super.mergeOne(adapter);
      return;
    }
    const merged = doraMergedWeight(weight as tf.Tensor2D, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, adapter.magnitude as tf.Tensor1D, adapter.scaling);
    weight.assign(merged.weight);
    merged.weight.dispose();
    this.mergeNorms.set(adapter.name, merged.norm);
  }

  protected override unmergeOne(adapter: LoraAdapter): void {
    const norm = this.mergeNorms.get(adapter.name);
    if (!adapter.magnitude || !norm) {
      super.unmergeOne(adapter);
      return;
    }
    const weight = this.base.weight;
    const magnitude = adapter.magnitude;
    tf.tidy(() => weight.assign(doraUnmergedWeight(weight as tf.Tensor2D, adapter.a as tf.Tensor2D, adapter.b as tf.Tensor2D, magnitude as tf.Tensor1D, norm, adapter.scaling)));
    norm.dispose();
    this.mergeNorms.delete(adapter.name);
  }

  protected override disposeAdapterState(name: string): void {
    this.mergeNorms.get(name)?.dispose();
    this.mergeNorms.delete(name);
  }
}
