import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@rankwise/models';
import { seededDropout } from '@rankwise/models';
import { flattenLeading, unflattenLeading, type Linear } from '@rankwise/models';
import { DEFAULT_ADAPTER, LoraLayer, type LoraAdapter, type LoraOptions, type ResolvedLoraOptions } from './lora-layer.js';
import { initMovesBase, loraInit, loraVariant } from './variants/registry.js';
import type { LoraVariant, VariantBase } from './variants/types.js';

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
 * What each adapter adds, merges and unmerges is its variant's (variants/: plain LoRA, DoRA…), applied in active order
 * to the running output as PEFT's LoraVariant.forward is; how A and B start is its init's (variants/: kaiming,
 * gaussian: B = 0, so a fresh adapter leaves outputs unchanged; PiSSA / OLoRA after `initializeFromBase`: A·B holds
 * part of W and the base the residual, so outputs are unchanged up to rounding).
 */
export class LoraLinear extends LoraLayer {
  readonly kind = 'linear';
  /** PiSSA / OLoRA: the factors the init produced (W = residual + s·A₀·B₀); null for other inits or before init. */
  initial: InitialAdapter | null = null;
  /** What each merged adapter's variant kept at merge time to unmerge exactly (DoRA: ‖W + s·A·B‖). */
  private readonly mergeStates = new Map<string, tf.Tensor>();
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

  /** Linear sites allow every variant and init; base-moving inits need r ≤ min(in, out). */
  protected override checkOptions(options: ResolvedLoraOptions): void {
    const base = this.base;
    const k = Math.min(base.inFeatures, base.outFeatures);
    if (initMovesBase(options.init) && options.r > k) {
      throw new Error(`${options.init} init needs r ≤ min(in, out) = ${k} for a [${base.inFeatures}, ${base.outFeatures}] weight, got r = ${options.r}`);
    }
  }

  protected initialFactors(options: ResolvedLoraOptions, rng: Rng): { a: tf.Tensor; b: tf.Tensor; extras: Record<string, tf.Tensor> } {
    const base = this.base;
    const r = options.r;
    const a = loraInit(options.init).freshA(base.inFeatures, r, rng); // [in, r]
    const b = tf.zeros([r, base.outFeatures]);
    if (initMovesBase(options.init)) this.pendingInit = '';
    const extras = tf.tidy(() => options.variant.init(this.variantBase(), { a, b, scaling: options.scaling }));
    return { a, b, extras };
  }

  /**
   * What a variant reads of the base: W [in, out] and the bias. W is read only when a variant asks for it (DoRA), so
   * plain LoRA goes on a base whose weight is stored quantized.
   */
  private variantBase(): VariantBase {
    const base = this.base;
    return {
      get weight() {
        return base.weight as tf.Tensor2D;
      },
      bias: base.bias ?? null,
    };
  }

  private variantOf(adapter: LoraAdapter): LoraVariant {
    return loraVariant(adapter.variant);
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
   * A, B in the adapter, keeps A₀, B₀ for saving, and runs the variant's init again (DoRA: m = ‖W_res + s·A·B‖), as
   * PEFT does after init.
   */
  async initializeFromBase(): Promise<void> {
    if (this.pendingInit === null) return;
    const adapter = this.adapter(this.pendingInit)!;
    const { inFeatures, outFeatures } = this.base;
    const w = await this.base.weight.data();
    const init = loraInit(adapter.init).fromBase!(w, inFeatures, outFeatures, adapter.r, adapter.scaling);
    const a = Float32Array.from(init.a);
    const b = Float32Array.from(init.b);
    tf.tidy(() => {
      adapter.a.assign(tf.tensor2d(a, [inFeatures, adapter.r]));
      adapter.b.assign(tf.tensor2d(b, [adapter.r, outFeatures]));
      this.base.weight.assign(tf.tensor2d(Float32Array.from(init.residual), [inFeatures, outFeatures]));
      const extras = this.variantOf(adapter).init(this.variantBase(), adapter);
      for (const [k, v] of Object.entries(adapter.extras)) v.assign(extras[k]);
    });
    this.initial = { a, b };
    this.pendingInit = null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.pendingInit !== null) throw new Error(`LoRA layer with ${this.init} init used before initializeFromBase() (use injectAdapters, which awaits it)`);
    return tf.tidy(() => {
      let y = this.base.forward(x); // [..., out]
      if (this.merged) return y;
      const x2 = flattenLeading(x) as tf.Tensor2D; // [N, in]
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
      const base = this.variantBase();
      for (const adapter of this.activeList()) {
        const xd = seededDropout(x2, adapter.dropout, adapter.rng, this.training) as tf.Tensor2D; // [N, in]
        const out = this.variantOf(adapter).forward({ x: x2, xd, y: flattenLeading(y) as tf.Tensor2D, base, adapter }); // [N, out]
        y = unflattenLeading(out, x);
      }
      return y;
    });
  }

  /** scaling·A·B of one adapter: [in, out] (the LoRA part; a variant's merge may do more, e.g. DoRA rescales columns). Caller disposes. */
  override adapterDelta(adapter: LoraAdapter): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(adapter.a, adapter.b).mul(adapter.scaling)); // [in, r]·[r, out]
  }

  /** Σ scaling·A·B over the active adapters: [in, out]. Caller disposes. */
  override delta(): tf.Tensor2D {
    return super.delta() as tf.Tensor2D;
  }

  /**
   * The weight this layer computes with: W with each active adapter's variant merge applied in turn (W + s·A·B for
   * plain LoRA, m ⊙ (W' + s·A·B) / ‖W' + s·A·B‖ for DoRA): what merging would fold in. Caller disposes.
   */
  override mergedWeight(): tf.Tensor2D {
    const w = this.base.weight as tf.Tensor2D;
    if (this.merged) return w.clone();
    return tf.tidy(() => this.activeList().reduce((weight, adapter) => this.variantOf(adapter).merge(weight, adapter).weight, w.clone() as tf.Tensor2D));
  }

  protected override mergeOne(adapter: LoraAdapter): void {
    const weight = this.base.weight;
    const [merged, state] = tf.tidy(() => {
      const m = this.variantOf(adapter).merge(weight as tf.Tensor2D, adapter);
      return m.state ? [m.weight, m.state] : [m.weight];
    });
    weight.assign(merged);
    merged.dispose();
    if (state) this.mergeStates.set(adapter.name, state);
  }

  protected override unmergeOne(adapter: LoraAdapter): void {
    const weight = this.base.weight;
    const state = this.mergeStates.get(adapter.name) ?? null;
    tf.tidy(() => weight.assign(this.variantOf(adapter).unmerge(weight as tf.Tensor2D, adapter, state)));
    state?.dispose();
    this.mergeStates.delete(adapter.name);
  }

  protected override disposeAdapterState(name: string): void {
    this.mergeStates.get(name)?.dispose();
    this.mergeStates.delete(name);
  }
}
