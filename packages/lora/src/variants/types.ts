import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@rankwise/models';
import type { InitialFactors } from '../init.js';

export type { InitialFactors };

/**
 * The seams of a LoRA adapter, after PEFT's `LoraVariant` (peft/tuners/lora/variants.py: init / forward / merge /
 * unmerge, picked once per adapter by `resolve_lora_variant`). PEFT keeps the init of A and B on a separate axis
 * (`init_lora_weights`), and so does rankwise: a `LoraVariant` decides what the adapter computes (plain LoRA, DoRA),
 * a `LoraInitMethod` how A and B start (kaiming, gaussian, PiSSA, OLoRA). Each lives in one file of this folder and is
 * listed once in registry.ts; the inject options, the grid's variant axis, the PEFT adapter reader and writer, the
 * pipeline's adapter file checks and merging all read the registry.
 *
 * Layouts are rankwise's: W [in, out], A [in, r], B [r, out]. Variants act on Linear sites (as most of PEFT's do);
 * Conv2d and Embedding sites take plain LoRA.
 */

/** An extra trainable tensor a variant keeps per adapter (DoRA's magnitude), with PEFT's name for it. */
export interface LoraVariantTensor {
  /**
   * PEFT's name: the layer's parameter key (`<key>` for the default adapter, `<key>.<name>` otherwise) and the tensor
   * name in adapter_model.safetensors (`base_model.model.<site>.<key>`; `.default` / `.weight` suffixes accepted).
   */
  readonly key: string;
  /** Its shape: 'out' is [out] (one value per output), 'scalar' is [1]. */
  readonly shape: 'out' | 'scalar';
  /** What it is, for errors: "a DoRA magnitude per output". */
  readonly what: string;
}

/** What a variant reads of an adapter: its factors, scaling and extra tensors (keyed by `LoraVariantTensor.key`). */
export interface VariantAdapter {
  /** [in, r] */
  readonly a: tf.Variable;
  /** [r, out] */
  readonly b: tf.Variable;
  readonly scaling: number;
  readonly extras: Readonly<Record<string, tf.Variable>>;
}

/** The frozen Linear a variant adapts: W [in, out] and its bias [out] (null without one). */
export interface VariantBase {
  readonly weight: tf.Tensor2D;
  readonly bias: tf.Tensor | null;
}

export interface VariantForwardInput {
  /** The layer input, flattened: [N, in]. */
  x: tf.Tensor2D;
  /** The LoRA path's input: x after this adapter's dropout ([N, in]); the same tensor object as `x` without dropout. */
  xd: tf.Tensor2D;
  /** The running output: the base layer's plus the adapters before this one, [N, out]. */
  y: tf.Tensor2D;
  base: VariantBase;
  adapter: VariantAdapter;
}

/**
 * One LoRA variant (PEFT's LoraVariant for Linear layers). Every function runs inside the caller's `tf.tidy` and may
 * return intermediate tensors freely; `merge` returns a state the layer keeps (and disposes) until `unmerge`.
 */
export interface LoraVariant {
  /** The registry key, also the value of the inject option `variant` ("lora", "dora"). */
  readonly name: string;
  /** For messages and progress lines: "DoRA". */
  readonly label: string;
  /**
   * The boolean inject / grid option that selects it (`"dora": true`) and the description of that option in the
   * pipeline schema; null for plain LoRA (the default).
   */
  readonly option: { readonly key: string; readonly description: string; readonly gridDescription: string } | null;
  /**
   * The adapter_config.json key that records it (`use_dora`), and whether it is written as false when the variant is
   * not used (true for keys every PEFT version knows); null for plain LoRA.
   */
  readonly peft: { readonly key: string; readonly writeWhenOff: boolean } | null;
  /** Refused on Conv2d and Embedding sites. */
  readonly linearOnly: boolean;
  /** Extra trainable tensors, created by `init` and saved beside A and B. */
  readonly tensors: readonly LoraVariantTensor[];
  /** The extra tensors of a new adapter, keyed as `tensors` (PEFT's variant init). Runs again after a base-moving init. */
  init(base: VariantBase, adapter: { readonly a: tf.Tensor; readonly b: tf.Tensor; readonly scaling: number }): Record<string, tf.Tensor>;
  /** The new running output [N, out] (PEFT's variant forward). */
  forward(input: VariantForwardInput): tf.Tensor2D;
  /** W folded with this adapter: the new W [in, out] and what unmerge needs (null if nothing). */
  merge(weight: tf.Tensor2D, adapter: VariantAdapter): { weight: tf.Tensor2D; state: tf.Tensor | null };
  /** The inverse of `merge` given its state. */
  unmerge(weight: tf.Tensor2D, adapter: VariantAdapter, state: tf.Tensor | null): tf.Tensor2D;
}

/** How A and B start (PEFT's `init_lora_weights`). B always starts at 0 unless the init reads W. */
export interface LoraInitMethod {
  /** The inject option value: "kaiming", "pissa". */
  readonly name: string;
  /** For messages: "PiSSA". */
  readonly label: string;
  /** What PEFT writes as init_lora_weights for it (true for kaiming). */
  readonly peftValue: true | string;
  /** For the schema: "A Kaiming-uniform, B = 0". */
  readonly description: string;
  /** Refused on Conv2d and Embedding sites (which start as kaiming). */
  readonly linearOnly: boolean;
  /** A [in, r] of a fresh adapter. */
  freshA(inFeatures: number, r: number, rng: Rng): tf.Tensor;
  /**
   * Inits that move part of W into the adapter (the base then keeps a residual): A, B and the residual from W
   * [in, out] (row-major), float64. They need r ≤ min(in, out) and a layer to themselves.
   */
  fromBase?(w: ArrayLike<number>, inFeatures: number, outFeatures: number, r: number, scaling: number): InitialFactors;
}
