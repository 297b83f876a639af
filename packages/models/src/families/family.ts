import { ConfigError } from '../description.js';
import type { LlamaConfig } from '../llama.js';
import type { JsonObject, JsonValue } from '../model.js';

/** The MLP's activation: SwiGLU's silu, or GeGLU's tanh-approximated GELU (transformers' gelu_pytorch_tanh). */
export type FamilyActivation = 'silu' | 'gelu_pytorch_tanh';

/**
 * How one Hugging Face model family's decoder differs from LlamaForCausalLM. The Llama module tree (nn/llama.ts)
 * reads these switches; each family's file says which it sets and why, from transformers' modeling code.
 */
export interface ModelFamily {
  /** config.json `model_type`. */
  modelType: string;
  /** transformers' class, config.json `architectures[0]`. */
  architecture: string;
  /**
   * config.json keys of the family's transformers config class that rankwise reads, beyond SHARED_KEYS; every other
   * key of a checkpoint's config.json is kept as it is (hf_extra) and written back on save.
   */
  keys: readonly string[];
  /** Values of the family's transformers config class for keys a config.json leaves out. */
  defaults: JsonObject;
  /** q, k and v as one `qkv_proj` site (outputs q | k | v), gate and up as one `gate_up_proj` (gate | up): Phi-3. */
  fused: boolean;
  /** An RMSNorm over head_dim on each head of q and k before the rotary embedding (`q_norm`, `k_norm`): Qwen3. */
  qkNorm: boolean;
  /** Gemma: RMSNorm scales by (1 + weight), embeddings are multiplied by sqrt(hidden_size). */
  gemma: boolean;
  /** Gemma 2: post_attention_layernorm on the attention output, pre_/post_feedforward_layernorm around the MLP. */
  sandwichNorms: boolean;
  /** Which projections carry a bias. */
  biases(c: LlamaConfig): { qkv: boolean; o: boolean; mlp: boolean };
  /** The sliding window of layer `layer` (keys i − window < j ≤ i visible), or null for full causal attention. */
  window(c: LlamaConfig, layer: number): number | null;
  activation(c: LlamaConfig): FamilyActivation;
  /** Checks the family's own keys of a config (defaults already filled), throwing ConfigError at `/<key>`. */
  check(raw: JsonObject, layers: number): void;
  /** PEFT's default target_modules for the model type (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING), or null. */
  peftTargets: string[] | null;
}

/** Keys every family reads (the Llama config's own, rope scaling included); a family may leave some out of `keys`. */
export const SHARED_KEYS = [
  'model_type',
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'rms_norm_eps',
  'rope_theta',
  'rope_scaling',
  'max_position_embeddings',
  'tie_word_embeddings',
  'hidden_act',
] as const;

/** A positive finite number, or null when `nullable` (an absent key has its default filled before the check). */
export function checkPositive(raw: JsonObject, key: string, nullable: boolean): void {
  const v = raw[key];
  if (v === null && nullable) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
    throw new ConfigError(`/${key}`, `found ${JSON.stringify(v ?? null)}, allowed: a positive number${nullable ? ' or null' : ''}`);
}

/** A positive integer, or null when `nullable`. */
export function checkPositiveInteger(raw: JsonObject, key: string, nullable: boolean): void {
  const v = raw[key];
  if (v === null && nullable) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ConfigError(`/${key}`, `found ${JSON.stringify(v ?? null)}, allowed: a positive integer${nullable ? ' or null' : ''}`);
}

/** One of `allowed` (strings). */
export function checkOneOf(raw: JsonObject, key: string, allowed: readonly JsonValue[], why = ''): void {
  if (!allowed.includes(raw[key] ?? null)) {
    throw new ConfigError(
      `/${key}`,
      `found ${JSON.stringify(raw[key] ?? null)}, allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}${why ? ` (${why})` : ''}`,
    );
  }
}

/** transformers' layer_types: one "full_attention" or "sliding_attention" per layer, or null. */
export function checkLayerTypes(raw: JsonObject, layers: number): void {
  const v = raw.layer_types;
  if (v === null || v === undefined) return;
  if (!Array.isArray(v) || v.length !== layers || v.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
    throw new ConfigError('/layer_types', `found ${JSON.stringify(v)}, allowed: null or ${layers} of "full_attention" / "sliding_attention" (one per layer)`);
  }
}
