import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@rankwise/models';
import { Module } from '@rankwise/models';
import type { Site, SiteModule } from '@rankwise/models';
import { initMovesBase, loraInit, PLAIN_LORA, variantOf, type LoraInit } from './variants/registry.js';
import { rsloraScaling } from './variants/rslora.js';
import type { LoraVariant } from './variants/types.js';

export interface LoraOptions {
  r: number;
  alpha: number;
  /** rsLoRA scaling alpha/√r instead of alpha/r. */
  rslora?: boolean;
  /** Dropout on the LoRA path's input, training only (PEFT's lora_dropout). */
  dropout?: number;
  /** DoRA: a trainable magnitude per output (PEFT's use_dora / lora_magnitude_vector). Linear sites only. */
  dora?: boolean;
  /**
   * The variant by its registry name (variants/registry.ts), e.g. one added with registerLoraVariant; the built-ins are
   * also selected by their flag (`dora: true`). Default plain LoRA.
   */
  variant?: string;
  /** How A and B start (PEFT's init_lora_weights); default kaiming. Non-kaiming inits: Linear sites only. */
  init?: LoraInit;
}

export function loraScaling(options: Pick<LoraOptions, 'r' | 'alpha' | 'rslora'>): number {
  return rsloraScaling.scaling(options.r, options.alpha, options.rslora === true);
}

/** PEFT's name for the adapter a single-adapter model carries; saved at the top of an adapter folder. */
export const DEFAULT_ADAPTER = 'default';

const ADAPTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws unless `name` can name an adapter: 1–64 letters, digits, `_` or `-` (it becomes a folder and a key part). */
export function checkAdapterName(name: string): void {
  if (typeof name !== 'string' || !ADAPTER_NAME.test(name)) {
    throw new Error(`adapter name ${JSON.stringify(name)} is not allowed; allowed: 1 to 64 letters, digits, "_" or "-"`);
  }
}

/** A site module LoRA can wrap: its frozen weight is `weight`, whatever its shape. */
export type AdaptableModule = Module & SiteModule & { readonly weight: tf.Variable };

/** How PEFT stores a layer's factors: `lora_A`/`lora_B` (Linear, Conv2d) or `lora_embedding_A`/`_B` (Embedding). */
export type LoraKind = 'linear' | 'conv2d' | 'embedding';

/** One named adapter of a layer: its settings, factors A [fanIn, r], B [r, out] and its variant's tensors (DoRA's m [out]). */
export interface LoraAdapter {
  readonly name: string;
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly dropout: number;
  readonly scaling: number;
  /** The variant's registry name ("lora", "dora"; variants/registry.ts). */
  readonly variant: string;
  /** Compatibility alias: variant is "dora". */
  readonly dora: boolean;
  readonly init: LoraInit;
  /** [fanIn, r] */
  readonly a: tf.Variable;
  /** [r, out] */
  readonly b: tf.Variable;
  /** The variant's extra tensors by PEFT name (`lora_magnitude_vector`), in the variant's order. */
  readonly extras: Readonly<Record<string, tf.Variable>>;
  /** Compatibility alias: DoRA's m ([out], extras.lora_magnitude_vector); null without DoRA. */
  readonly magnitude: tf.Variable | null;
  /** This adapter's dropout stream. */
  readonly rng: Rng;
  /** Process-wide creation counter: lists adapters in the order they were added to a model. */
  readonly created: number;
}

let adaptersCreated = 0;

/** PEFT's name for "no adapter" in a mixed batch's adapter_names. */
export const BASE_ROWS = '__base__';

/** Settings checked and filled in. */
export interface ResolvedLoraOptions {
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  init: LoraInit;
  variant: LoraVariant;
  scaling: number;
}

/** Parameter keys: `lora_A` for the adapter named "default" (as before several adapters existed), else `lora_A.<name>`. */
function key(base: string, name: string): string {
  return name === DEFAULT_ADAPTER ? base : `${base}.${name}`;
}

/**
 * What every LoRA layer shares: named adapters, each with factors A [fanIn, r] and B [r, out] (2-D, so ΔW = scaling·A·B
 * is one matmul for every layer type; `delta()` reshapes it to the base weight's shape), merge and unmerge into the base
 * weight. PEFT's multi-adapter semantics: several adapters per layer, a list of active ones whose outputs are summed,
 * a switch that disables them all, merging the active ones (unmerged in reverse order). Model-level control (the same
 * active set on every layer): lora/adapters.ts.
 * The settings getters (r, alpha, loraA, …) read the first active adapter (else the first one): with one adapter they
 * are that adapter's, as before.
 */
export abstract class LoraLayer extends Module implements SiteModule {
  abstract readonly kind: LoraKind;
  private readonly adapterMap = new Map<string, LoraAdapter>();
  private active: string[] = [];
  /** PEFT's disable_adapters: forward is the base layer's. */
  private disabledFlag = false;
  /** Adapters folded into W, in merge order (unmerged in reverse). */
  protected readonly mergedNames: string[] = [];
  /** PEFT's adapter_names (mixed-batch inference): the adapter of each row of the batch, or null (the active set for every row). */
  private rows: readonly string[] | null = null;

  constructor(base: AdaptableModule) {
    super();
    this.addModule('base', base);
  }

  /** Checks an adapter's settings for this layer type (plain LoRA here; LoraLinear allows every variant and init). */
  protected checkOptions(options: ResolvedLoraOptions, siteKind: string): void {
    const { variant } = options;
    if (variant.linearOnly) {
      const how = variant.option ? `${variant.option.key}: true` : `variant: ${JSON.stringify(variant.name)}`;
      throw new Error(`${variant.label} (${how}) is supported on Linear sites only, not on ${siteKind} sites`);
    }
    if (loraInit(options.init).linearOnly) {
      throw new Error(`LoRA init "${options.init}" is supported on Linear sites only; ${siteKind} sites use PEFT's default init ("kaiming")`);
    }
  }

  /** The starting A [fanIn, r] and B [r, out] of a new adapter (and its variant's tensors); the layer takes ownership. */
  protected abstract initialFactors(options: ResolvedLoraOptions, rng: Rng): { a: tf.Tensor; b: tf.Tensor; extras?: Record<string, tf.Tensor> };

  /** A display name for errors: "Linear", "Conv2d", "Embedding". */
  protected abstract get siteKind(): string;

  /**
   * Adds adapter `name` with fresh factors (PEFT's update_layer). The first adapter of a layer becomes its active one;
   * later ones are added inactive (switch with lora/adapters.ts setAdapter). Inits that move part of W into the adapter
   * (PiSSA, OLoRA) need the layer to themselves.
   */
  addAdapter(name: string, options: LoraOptions, rng: Rng): LoraAdapter {
    checkAdapterName(name);
    if (this.adapterMap.has(name)) throw new Error(`this layer already has an adapter named "${name}"`);
    const resolved = resolveOptions(options);
    this.checkOptions(resolved, this.siteKind);
    if (this.adapterMap.size > 0 && initMovesBase(resolved.init)) {
      throw new Error(`a ${resolved.init} adapter moves part of W into its factors, so it cannot share a layer with other adapters (adding "${name}")`);
    }
    const moved = [...this.adapterMap.values()].find((a) => initMovesBase(a.init));
    if (moved)
      throw new Error(`adapter "${moved.name}" (${moved.init} init) moved part of W into its factors; another adapter ("${name}") cannot share this layer`);
    const { a, b, extras: initialExtras = {} } = this.initialFactors(resolved, rng);
    const variant = resolved.variant;
    const aVar = this.addParameter(key('lora_A', name), a);
    const bVar = this.addParameter(key('lora_B', name), b);
    const extras: Record<string, tf.Variable> = {};
    for (const t of variant.tensors) {
      const value = initialExtras[t.key];
      if (!value) throw new Error(`LoRA variant "${variant.name}": its init made no tensor "${t.key}"`);
      extras[t.key] = this.addParameter(key(t.key, name), value);
    }
    const adapter: LoraAdapter = {
      name,
      r: resolved.r,
      alpha: resolved.alpha,
      rslora: resolved.rslora,
      dropout: resolved.dropout,
      scaling: resolved.scaling,
      variant: variant.name,
      dora: variant.name === 'dora',
      init: resolved.init,
      rng,
      created: ++adaptersCreated,
      a: aVar,
      b: bVar,
      extras,
      magnitude: extras.lora_magnitude_vector ?? null,
    };
    this.adapterMap.set(name, adapter);
    if (this.adapterMap.size === 1) this.active = [name];
    return adapter;
  }

  /**
   * Adds adapter `name` with the given factors A [fanIn, r] and B [r, out] (not copied: the layer takes ownership),
   * e.g. a weighted combination of other adapters. Added inactive and not trainable (PEFT's _freeze_adapter).
   */
  addAdapterFactors(name: string, options: LoraOptions, rng: Rng, a: tf.Tensor2D, b: tf.Tensor2D): LoraAdapter {
    const variant = variantOf(options);
    if (variant.name !== PLAIN_LORA) throw new Error(`adapter "${name}": factors can be given for plain LoRA only (not ${variant.label})`);
    const expectA = [this.loraAShapeFor(options.r)].join();
    if (a.shape.join() !== expectA || b.shape.join() !== [options.r, this.outFeatures].join()) {
      throw new Error(
        `adapter "${name}": factors A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] do not fit this layer (A [${expectA.replace(/,/g, ', ')}], B [${options.r}, ${this.outFeatures}])`,
      );
    }
    const wasEmpty = this.adapterMap.size === 0;
    const adapter = this.addAdapter(name, { ...options, init: 'kaiming' }, rng);
    tf.tidy(() => {
      adapter.a.assign(a);
      adapter.b.assign(b);
    });
    tf.dispose([a, b]);
    setTrainable(adapter, false);
    if (wasEmpty) this.active = [];
    return adapter;
  }

  /** A's shape for rank r: [fanIn, r]. */
  private loraAShapeFor(r: number): number[] {
    return [this.base.weight.size / this.outFeatures, r];
  }

  /** The base weight's output width (B's columns). */
  protected abstract get outFeatures(): number;

  /**
   * Removes adapter `name` and disposes its factors (PEFT's delete_adapter: refused while it is merged). When it was
   * active, the other active ones stay; when none is left, the first remaining name in sorted order becomes active.
   */
  deleteAdapter(name: string): void {
    const adapter = this.adapterMap.get(name);
    if (!adapter) return;
    if (this.mergedNames.includes(name)) throw new Error(`adapter "${name}" is merged into W; unmerge it before deleting it`);
    for (const k of ['lora_A', 'lora_B', ...Object.keys(adapter.extras)]) this.removeParameter(key(k, name)).dispose();
    this.adapterMap.delete(name);
    this.disposeAdapterState(name);
    if (this.active.includes(name)) {
      this.active = this.active.filter((n) => n !== name);
      if (this.active.length === 0 && this.adapterMap.size > 0) this.active = [[...this.adapterMap.keys()].sort()[0]];
    }
  }

  /** Per-adapter state a subclass keeps (merge-time norms): dropped when the adapter is deleted. */
  protected disposeAdapterState(_name: string): void {}

  /** Names of this layer's adapters, in the order they were added. */
  get adapterNames(): string[] {
    return [...this.adapterMap.keys()];
  }

  /** The active adapter names (PEFT's active_adapters; names this layer lacks are skipped in forward). */
  get activeAdapters(): string[] {
    return [...this.active];
  }

  adapter(name: string): LoraAdapter | null {
    return this.adapterMap.get(name) ?? null;
  }

  /** Each adapter's dropout stream, in the order the adapters were added (saved in training checkpoints). */
  randomStreams(): Rng[] {
    return [...this.adapterMap.values()].map((a) => a.rng);
  }

  /** Every adapter of this layer. */
  adapters(): LoraAdapter[] {
    return [...this.adapterMap.values()];
  }

  /**
   * PEFT's mixed-batch inference (`adapter_names`): row b of each following forward uses adapter `names[b]` alone
   * (`"__base__"`: none), whatever the active set; null goes back to the active set. As PEFT, it refuses a merged
   * layer and DoRA adapters; a name this layer lacks adds nothing to its rows. Linear sites only.
   */
  setRowAdapters(names: readonly string[] | null): void {
    if (names !== null) {
      if (this.merged)
        throw new Error(
          'mixed-adapter batches: the adapters are merged into the base weight; unmerge them first (PEFT refuses adapter_names on merged layers)',
        );
      const used = names.filter((n) => n !== BASE_ROWS && this.adapterMap.has(n));
      if (used.length > 0 && this.kind !== 'linear') throw new Error(`mixed-adapter batches are supported on Linear sites only, not on ${this.siteKind} sites`);
      // the mixed-batch forward computes plain LoRA's s·A·B per row; other variants (DoRA, registered ones) are refused
      const other = used.find((n) => this.adapterMap.get(n)!.variant !== PLAIN_LORA);
      if (other) {
        const variant = this.adapterMap.get(other)!.variant;
        throw new Error(`mixed-adapter batches: adapter "${other}" uses the ${variant} variant; PEFT's adapter_names supports plain LoRA only`);
      }
    }
    this.rows = names === null ? null : [...names];
  }

  /** The adapter of each batch row while a mixed batch is set (else null). */
  protected get rowAdapters(): readonly string[] | null {
    return this.rows;
  }

  /** Adapters of a mixed batch, each with the rows that use it (an adapter this layer lacks, and "__base__", are skipped). */
  protected rowGroups(): Array<{ adapter: LoraAdapter; rows: number[] }> {
    const groups = new Map<string, number[]>();
    (this.rows ?? []).forEach((name, b) => {
      if (name !== BASE_ROWS && this.adapterMap.has(name)) groups.set(name, [...(groups.get(name) ?? []), b]);
    });
    return [...groups].map(([name, rows]) => ({ adapter: this.adapterMap.get(name)!, rows }));
  }

  /** The adapters forward adds, in active order: none while disabled. */
  protected activeList(): LoraAdapter[] {
    if (this.disabledFlag) return [];
    return this.active.flatMap((n) => this.adapterMap.get(n) ?? []);
  }

  /**
   * Sets the active adapters (PEFT's set_adapter): unmerges first when merged; the active ones become trainable unless
   * `inferenceMode`, all others not. Names the layer lacks are kept (the model-wide set), and skipped in forward.
   */
  setActive(names: readonly string[], inferenceMode = false): void {
    if (this.merged) this.unmerge();
    this.active = [...names];
    for (const adapter of this.adapterMap.values()) setTrainable(adapter, !inferenceMode && !this.disabledFlag && names.includes(adapter.name));
  }

  /** PEFT's enable_adapters(false / true): disabled, forward is the base layer's and no adapter is trainable. */
  setDisabled(disabled: boolean): void {
    if (disabled && this.merged) this.unmerge();
    this.disabledFlag = disabled;
    for (const adapter of this.adapterMap.values()) setTrainable(adapter, !disabled && this.active.includes(adapter.name));
  }

  get disabled(): boolean {
    return this.disabledFlag;
  }

  /** The first active adapter, else the first one: what the single-adapter getters below read. */
  protected get primary(): LoraAdapter {
    for (const name of this.active) {
      const adapter = this.adapterMap.get(name);
      if (adapter) return adapter;
    }
    const first = this.adapterMap.values().next();
    if (first.done) throw new Error('this LoRA layer has no adapters left');
    return first.value;
  }

  get r(): number {
    return this.primary.r;
  }
  get alpha(): number {
    return this.primary.alpha;
  }
  get rslora(): boolean {
    return this.primary.rslora;
  }
  get dropout(): number {
    return this.primary.dropout;
  }
  get scaling(): number {
    return this.primary.scaling;
  }
  get dora(): boolean {
    return this.primary.dora;
  }
  /** The primary adapter's variant name ("lora", "dora"). */
  get variant(): string {
    return this.primary.variant;
  }
  get init(): LoraInit {
    return this.primary.init;
  }

  /** True while adapters are folded into W (forward then skips the LoRA path). */
  get merged(): boolean {
    return this.mergedNames.length > 0;
  }

  /** The adapters folded into W, in merge order. */
  get mergedAdapters(): string[] {
    return [...this.mergedNames];
  }

  get base(): AdaptableModule {
    return this.child<AdaptableModule>('base');
  }

  /** The primary adapter's A: [fanIn, r] */
  get loraA(): tf.Variable {
    return this.primary.a;
  }

  /** The primary adapter's B: [r, out] */
  get loraB(): tf.Variable {
    return this.primary.b;
  }

  /** The primary adapter's DoRA m: [out]; null without DoRA (always null outside LoraLinear). */
  get magnitude(): tf.Variable | null {
    return this.primary.magnitude;
  }

  /** scaling·A·B of one adapter in the base weight's shape. Caller disposes. */
  adapterDelta(adapter: LoraAdapter): tf.Tensor {
    return tf.tidy(() => tf.matMul(adapter.a, adapter.b).mul(adapter.scaling).reshape(this.base.weight.shape)); // [fanIn, r]·[r, out]
  }

  /** Σ scaling·A·B over the active adapters (zeros while disabled) in the base weight's shape. Caller disposes. */
  delta(): tf.Tensor {
    return tf.tidy(() => this.activeList().reduce<tf.Tensor>((sum, adapter) => sum.add(this.adapterDelta(adapter)), tf.zeros(this.base.weight.shape)));
  }

  /** The weight this layer computes with, W + Σ scaling·A·B in W's shape. Caller disposes. */
  mergedWeight(): tf.Tensor {
    const weight = this.base.weight;
    if (this.merged) return weight.clone();
    return tf.tidy(() => weight.add(this.delta()));
  }

  /** Folds one adapter into W (LoraLinear overrides: its variant merges). */
  protected mergeOne(adapter: LoraAdapter): void {
    const weight = this.base.weight;
    tf.tidy(() => weight.assign(weight.add(this.adapterDelta(adapter))));
  }

  /** Takes one adapter back out of W. */
  protected unmergeOne(adapter: LoraAdapter): void {
    const weight = this.base.weight;
    tf.tidy(() => weight.assign(weight.sub(this.adapterDelta(adapter))));
  }

  /**
   * Folds the active adapters not yet merged into W, in active order (PEFT's merge); forward then costs what the base
   * costs. While disabled there is nothing to fold.
   */
  merge(): void {
    for (const adapter of this.activeList()) {
      if (this.mergedNames.includes(adapter.name)) continue;
      this.mergeOne(adapter);
      this.mergedNames.push(adapter.name);
    }
  }

  /** Takes every merged adapter back out of W, last merged first. */
  unmerge(): void {
    while (this.mergedNames.length > 0) {
      const name = this.mergedNames.pop()!;
      this.unmergeOne(this.adapterMap.get(name)!);
    }
  }

  /** Disposes every adapter's factors and state (the base layer is left to its owner). */
  disposeAdapter(): void {
    for (const adapter of this.adapterMap.values()) {
      tf.dispose([adapter.a, adapter.b, ...Object.values(adapter.extras)]);
      this.disposeAdapterState(adapter.name);
    }
  }

  describeSite(path: string): Site {
    return { ...this.base.describeSite(path), adapted: true };
  }
}

function setTrainable(adapter: LoraAdapter, on: boolean): void {
  adapter.a.trainable = on;
  adapter.b.trainable = on;
  for (const extra of Object.values(adapter.extras)) extra.trainable = on;
}

function resolveOptions(options: LoraOptions): ResolvedLoraOptions {
  const { r, alpha } = options;
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank r must be a positive integer, got ${r}`);
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`LoRA alpha must be a positive number, got ${alpha}`);
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${dropout}`);
  const init = loraInit(options.init ?? 'kaiming').name as LoraInit;
  const rslora = options.rslora ?? false;
  return { r, alpha, rslora, dropout, variant: variantOf(options), init, scaling: loraScaling({ r, alpha, rslora }) };
}
