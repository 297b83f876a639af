import * as tf from '@tensorflow/tfjs';
import { Rng } from './random.js';
import { gelu } from './activations.js';
import { ConfigError, type ModelDescription } from './description.js';
import { Embedding } from './embedding.js';
import { attendBlocks, KvCache, withCacheStep, type CacheStep, type CachedDecoder } from './kv-cache.js';
import { FAMILIES, FAMILY_KEYS, FAMILY_MODEL_TYPES, gemmaEmbeddingScale, type ModelFamily } from './families/index.js';
import { flattenLeading, Linear, unflattenLeading } from './linear.js';
import { Model, type JsonObject } from './model.js';
import { Module } from './module.js';
import { RmsNorm } from './rmsnorm.js';
import { checkRopeScaling, ropeFrequencies, rotaryDimOf } from './rope-scaling.js';
import { RotaryEmbedding } from './rotary.js';
import { Sequential } from './sequential.js';
import type { Site } from './site.js';

/**
 * A Llama-family decoder in Hugging Face's config vocabulary (config.json keys, snake_case), so a checkpoint's
 * config.json maps onto it key for key. `model_type` picks the family (nn/families/): Llama, Qwen2, Mistral, Qwen3,
 * Phi-3, Gemma, Gemma 2. Keys a family does not have hold their neutral value (null, false, 1). `context` is
 * rankwise's own: the window length training and evaluation use (at most max_position_embeddings). `hf_extra` keeps
 * the checkpoint's other config.json keys (bos/eos ids, torch_dtype, _name_or_path, …) so a saved model's
 * config.json carries them again.
 */
export interface LlamaConfig extends JsonObject {
  model_type: 'llama' | 'qwen2' | 'mistral' | 'qwen3' | 'phi3' | 'gemma' | 'gemma2';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** transformers' rope_scaling object (rope-scaling.ts: default, linear, dynamic, yarn, llama3), or null. */
  rope_scaling: JsonObject | null;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  /** Llama: biases on q, k, v and o; Qwen3, Gemma, Gemma 2 too (Qwen2 always has q, k, v biases and never an o bias). */
  attention_bias: boolean;
  /** Llama only. */
  mlp_bias: boolean;
  /** 'silu' (SwiGLU); Gemma: 'gelu' or 'gelu_pytorch_tanh', Gemma 2: 'gelu_pytorch_tanh' (see hidden_activation). */
  hidden_act: string;
  /** Phi-3: the fraction of each head's dimensions that rotate (1 elsewhere). */
  partial_rotary_factor: number;
  /** Phi-3: the pre-training context, which longrope scaling reads (null elsewhere). */
  original_max_position_embeddings: number | null;
  /** Mistral, Phi-3, Gemma 2: attention reaches back this many positions (null: full causal attention). */
  sliding_window: number | null;
  /** Gemma 2: "sliding_attention" / "full_attention" per layer (null: sliding on even layers). */
  layer_types: string[] | null;
  /** Gemma, Gemma 2: the MLP's activation (gelu_pytorch_tanh). */
  hidden_activation: string | null;
  /** Gemma 2: attention scores are scaled by query_pre_attn_scalar^−½ (null elsewhere: head_dim^−½). */
  query_pre_attn_scalar: number | null;
  /** Gemma 2: scores → cap · tanh(scores / cap) before the mask. */
  attn_logit_softcapping: number | null;
  /** Gemma 2: logits → cap · tanh(logits / cap). */
  final_logit_softcapping: number | null;
  context: number;
  hf_extra: JsonObject;
}

export const LLAMA_MODEL_TYPES = FAMILY_MODEL_TYPES as readonly LlamaConfig['model_type'][];
const LLAMA_KEYS = [...FAMILY_KEYS, 'context', 'hf_extra'];
/** The value a key holds in a config of a family that does not have it (a filled-in config carries every key). */
const NEUTRAL: JsonObject = {
  attention_bias: false,
  mlp_bias: false,
  partial_rotary_factor: 1,
  original_max_position_embeddings: null,
  sliding_window: null,
  layer_types: null,
  hidden_activation: null,
  query_pre_attn_scalar: null,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
};
/** Used when a config omits them: transformers' LlamaConfig defaults, and a 512-token training window. */
const DEFAULT_CONTEXT = 512;

/** The family of a config (its model_type). */
export function familyOf(c: Pick<LlamaConfig, 'model_type'>): ModelFamily {
  const family = FAMILIES.get(c.model_type);
  if (!family) throw new Error(`unknown model_type "${c.model_type}"`);
  return family;
}

/** The site shapes of one decoder layer: [name, role, in, out]. Phi-3's fused projections are one site each. */
function layerSites(c: LlamaConfig): Array<[string, string, number, number]> {
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  if (familyOf(c).fused) {
    return [
      ['self_attn.qkv_proj', 'attn.qkv', c.hidden_size, q + 2 * kv],
      ['self_attn.o_proj', 'attn.o', q, c.hidden_size],
      ['mlp.gate_up_proj', 'mlp.gate_up', c.hidden_size, 2 * c.intermediate_size],
      ['mlp.down_proj', 'mlp.down', c.intermediate_size, c.hidden_size],
    ];
  }
  return [
    ['self_attn.q_proj', 'attn.q', c.hidden_size, q],
    ['self_attn.k_proj', 'attn.k', c.hidden_size, kv],
    ['self_attn.v_proj', 'attn.v', c.hidden_size, kv],
    ['self_attn.o_proj', 'attn.o', q, c.hidden_size],
    ['mlp.gate_proj', 'mlp.gate', c.hidden_size, c.intermediate_size],
    ['mlp.up_proj', 'mlp.up', c.hidden_size, c.intermediate_size],
    ['mlp.down_proj', 'mlp.down', c.intermediate_size, c.hidden_size],
  ];
}

/** Whether the projection `name` (q_proj, qkv_proj, o_proj, gate_proj, …) carries a bias. */
export function projectionBias(c: LlamaConfig, name: string): boolean {
  const biases = familyOf(c).biases(c);
  if (name === 'o_proj') return biases.o;
  return name.endsWith('_proj') && ['q_proj', 'k_proj', 'v_proj', 'qkv_proj'].includes(name) ? biases.qkv : biases.mlp;
}

/**
 * Additive causal mask for grouped queries: [rep·T, T], row g·T + i may read keys 0…i (0), not later ones (−1e9);
 * with a sliding window only keys i − window < j ≤ i (transformers' sliding_window_overlay: kv > q − window).
 */
const maskCache = new Map<string, Float32Array>();
function groupedCausalMask(t: number, rep: number, window: number | null): tf.Tensor2D {
  const key = `${t}x${rep}w${window}`;
  let values = maskCache.get(key);
  if (!values) {
    values = new Float32Array(rep * t * t);
    for (let g = 0; g < rep; g++) {
      for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) if (j > i || (window !== null && j <= i - window)) values[(g * t + i) * t + j] = -1e9;
    }
    maskCache.set(key, values);
  }
  return tf.tensor2d(values, [rep * t, t]);
}

/** Rotary tables [B, 1, T, hd] and additive masks [B, T, T] of rows that hold several packed sequences. */
interface PackedPositions {
  cos: tf.Tensor;
  sin: tf.Tensor;
  mask(window: number | null): tf.Tensor;
}

/**
 * Additive mask [B, T, T] of packed rows: token i reads token j ≤ i of the same sequence (0), nothing else (−1e9);
 * a sequence starts at t = 0 and wherever positionIds[t] ≠ positionIds[t − 1] + 1. A sliding window counts positions.
 */
export function packedMask(positionIds: Int32Array, b: number, t: number, window: number | null): tf.Tensor {
  const values = new Float32Array(b * t * t).fill(-1e9);
  for (let r = 0; r < b; r++) {
    const p = positionIds.subarray(r * t, (r + 1) * t);
    let start = 0;
    for (let i = 0; i < t; i++) {
      if (i > 0 && p[i] !== p[i - 1] + 1) start = i;
      for (let j = start; j <= i; j++) if (window === null || j > i - window) values[(r * t + i) * t + j] = 0;
    }
  }
  return tf.tensor3d(values, [b, t, t]);
}

/**
 * LlamaAttention: q/k/v/o projections (sites; Phi-3: one qkv_proj), Qwen3's per-head q/k norms, rotary embeddings on
 * q and k, grouped-query attention where query head h reads key/value head ⌊h / (heads / kv_heads)⌋ (HF's repeat_kv),
 * without materialising the repeated k and v: the queries of one key/value head are stacked along the time axis
 * instead. Scores are scaled by head_dim^−½ (Gemma 2: query_pre_attn_scalar^−½), soft-capped (Gemma 2) and masked
 * causally, within the layer's sliding window if it has one. [B, T, C] → [B, T, C].
 */
class LlamaAttention extends Module {
  private readonly rep: number;
  private readonly window: number | null;
  private readonly scale: number;

  constructor(
    private readonly c: LlamaConfig,
    layer: number,
    private readonly rope: RotaryEmbedding,
    private readonly family: ModelFamily,
    rng: Rng,
    init: 'random' | 'zeros',
  ) {
    super();
    this.rep = c.num_attention_heads / c.num_key_value_heads;
    for (const [path, role, inF, outF] of layerSites(c).filter(([path]) => path.startsWith('self_attn.'))) {
      const name = path.slice('self_attn.'.length);
      this.addModule(name, new Linear(inF, outF, rng.fork(name), { role, layer, bias: projectionBias(c, name), init }));
    }
    if (family.qkNorm) {
      this.addModule('q_norm', new RmsNorm(c.head_dim, c.rms_norm_eps));
      this.addModule('k_norm', new RmsNorm(c.head_dim, c.rms_norm_eps));
    }
    this.window = family.window(c, layer);
    this.scale = 1 / Math.sqrt(c.query_pre_attn_scalar ?? c.head_dim);
  }

  /**
   * q [B, H, T, hd], k and v [B, KV, T, hd] (heads first): from q_proj, k_proj, v_proj, or the q | k | v parts of
   * qkv_proj's output. The fused output is split along a leading axis (heads-major), where a part is one contiguous
   * block: tfjs slices a last axis element by element in JavaScript, a leading one with one copy.
   */
  private project(x: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const [b, t] = x.shape as [number, number, number];
    const { num_attention_heads: h, num_key_value_heads: kv, head_dim: hd } = this.c;
    if (this.family.fused) {
      const fused = this.child('qkv_proj')
        .forward(x)
        .reshape([b * t, h + 2 * kv, hd])
        .transpose([1, 0, 2]); // [B·T, (H+2KV)·hd] → [H+2KV, B·T, hd]
      const heads = (y: tf.Tensor, n: number) => y.reshape([n, b, t, hd]).transpose([1, 0, 2, 3]); // [n, B·T, hd] → [B, n, T, hd]
      const [q, k, v] = tf.split(fused, [h, kv, kv], 0); // q | k | v
      return [heads(q, h), heads(k, kv), heads(v, kv)];
    }
    const heads = (name: string, n: number) => this.child(name).forward(x).reshape([b, t, n, hd]).transpose([0, 2, 1, 3]); // [B, T, n·hd] → [B, n, T, hd]
    return [heads('q_proj', h), heads('k_proj', kv), heads('v_proj', kv)];
  }

  /** `packed`: per-token positions (sequences packed into one row): rotary angles and a mask from them. */
  forward(x: tf.Tensor, packed?: PackedPositions): tf.Tensor {
    return tf.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      const { num_attention_heads: h, num_key_value_heads: kv, head_dim: hd } = this.c;
      let [qh, kh, v] = this.project(x); // [B, n, T, hd]
      if (this.family.qkNorm) [qh, kh] = [this.child('q_norm').forward(qh), this.child('k_norm').forward(kh)]; // RMSNorm over hd, per head
      const rotate = (y: tf.Tensor) => (packed ? this.rope.applyTables(y, packed.cos, packed.sin) : this.rope.apply(y));
      const q = rotate(qh).reshape([b, kv, this.rep * t, hd]); // [B, KV, rep·T, hd]
      const k = rotate(kh); // [B, KV, T, hd]
      let scores = tf.matMul(q, k, false, true).mul(this.scale); // [B, KV, rep·T, hd]·[B, KV, hd, T] → [B, KV, rep·T, T]
      const cap = this.c.attn_logit_softcapping;
      if (cap !== null) scores = scores.div(cap).tanh().mul(cap); // Gemma 2: soft-capped before the mask
      const masked = packed
        ? scores
            .reshape([b, kv, this.rep, t, t])
            .add(packed.mask(this.window).reshape([b, 1, 1, t, t]))
            .reshape([b, kv, this.rep * t, t]) // each token reads its own sequence only
        : scores.add(groupedCausalMask(t, this.rep, this.window));
      const weights = tf.softmax(masked, -1); // [B, KV, rep·T, T]
      const mixed = tf.matMul(weights, v); // [B, KV, rep·T, T]·[B, KV, T, hd] → [B, KV, rep·T, hd]
      const merged = mixed
        .reshape([b, h, t, hd])
        .transpose([0, 2, 1, 3])
        .reshape([b, t, h * hd]); // [B, T, H·hd]
      return this.child('o_proj').forward(merged); // [B, T, C]
    });
  }

  /**
   * The new positions of x [B, T, C] against the cached keys and values of `layer` (extended by theirs), with the
   * same projections, q/k norms, rotary schedule, scale, soft-cap and sliding window as `forward`: the window counts
   * cache positions (padding included), as transformers' masks do. [B, T, C] → [B, T, C].
   */
  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      const { num_attention_heads: h, num_key_value_heads: kv, head_dim: hd } = this.c;
      let [qh, kh, v] = this.project(x); // [B, n, T, hd]
      if (this.family.qkNorm) [qh, kh] = [this.child('q_norm').forward(qh), this.child('k_norm').forward(kh)]; // RMSNorm over hd, per head
      const q = this.rope.applyAt(qh, step).reshape([b, kv, this.rep * t, hd]); // [B, KV, rep·T, hd]
      const blocks = cache.append(layer, this.rope.applyAt(kh, step), v); // [B, KV, S_i, hd] each, ΣS_i = S+T
      const total = step.total;
      const window = this.window;
      // keys at cache index j ≤ (S + i) − window are out of new token i's window: [1, 1, T, S+T]
      const windowMask =
        window === null || total <= window
          ? null
          : step.shared(`window${window}`, () => {
              const values = new Float32Array(t * total);
              for (let i = 0; i < t; i++) for (let j = 0; j <= total - t + i - window; j++) values[i * total + j] = -1e9;
              return tf.tensor4d(values, [1, 1, t, total]);
            });
      const additive = step.mask && windowMask ? step.mask.add(windowMask) : (step.mask ?? windowMask); // [B or 1, 1, T, S+T]
      const cap = this.c.attn_logit_softcapping;
      const masked =
        additive === null && cap === null
          ? null
          : (scores: tf.Tensor) => {
              // [B, KV, rep·T, S+T]
              const capped = cap === null ? scores : scores.div(cap).tanh().mul(cap); // Gemma 2: soft-capped before the mask
              if (additive === null) return capped;
              const rows = additive.shape[0] as number;
              return capped
                .reshape([b, kv, this.rep, t, total])
                .add(additive.reshape([rows, 1, 1, t, total]))
                .reshape([b, kv, this.rep * t, total]);
            };
      const mixed = attendBlocks(q, blocks, this.scale, masked); // softmax(cap(q·Kᵀ·scale) + mask)·V: [B, KV, rep·T, hd]
      const merged = mixed
        .reshape([b, h, t, hd])
        .transpose([0, 2, 1, 3])
        .reshape([b, t, h * hd]); // [B, T, H·hd]
      return this.child('o_proj').forward(merged); // [B, T, C]
    });
  }
}

/**
 * LlamaMLP (SwiGLU): down(silu(gate(x)) · up(x)); Gemma's GeGLU uses gelu_tanh instead of silu; Phi-3's gate_up_proj
 * gives gate | up in one product. [B, T, C] → [B, T, I] → [B, T, C].
 */
class LlamaMlp extends Module {
  constructor(
    c: LlamaConfig,
    layer: number,
    private readonly family: ModelFamily,
    private readonly activation: 'silu' | 'gelu_pytorch_tanh',
    rng: Rng,
    init: 'random' | 'zeros',
  ) {
    super();
    for (const [path, role, inF, outF] of layerSites(c).filter(([path]) => path.startsWith('mlp.'))) {
      const name = path.slice('mlp.'.length);
      this.addModule(name, new Linear(inF, outF, rng.fork(name), { role, layer, bias: projectionBias(c, name), init }));
    }
  }

  /** gate_up_proj's output [B, T, 2I] as gate | up, split along a leading axis (one contiguous copy each). */
  private gateUp(x: tf.Tensor): tf.Tensor[] {
    const [b, t] = x.shape as [number, number, number];
    const fused = this.child('gate_up_proj').forward(x); // [B, T, 2I]
    const i = (fused.shape[2] as number) / 2;
    const halves = tf.split(fused.reshape([b * t, 2, i]).transpose([1, 0, 2]), 2, 0); // [2, B·T, I] → gate | up
    return halves.map((half) => half.reshape([b, t, i]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [gate, up] = this.family.fused ? this.gateUp(x) : [this.child('gate_proj').forward(x), this.child('up_proj').forward(x)]; // [B, T, I] each
      const act = this.activation === 'silu' ? gate.mul(tf.sigmoid(gate)) : gelu(gate); // silu(gate) or gelu_tanh(gate)
      return this.child('down_proj').forward(act.mul(up)); // [B, T, C]
    });
  }
}

/**
 * LlamaDecoderLayer: x + attn(norm(x)), then + mlp(norm(·)). Gemma 2 normalises each sub-layer's output as well:
 * x + post_attention_layernorm(attn(input_layernorm(x))), then + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(·))).
 */
class LlamaDecoderLayer extends Module {
  private readonly sandwich: boolean;

  constructor(c: LlamaConfig, layer: number, rope: RotaryEmbedding, family: ModelFamily, rng: Rng, init: 'random' | 'zeros') {
    super();
    const norm = () => new RmsNorm(c.hidden_size, c.rms_norm_eps, family.gemma);
    this.sandwich = family.sandwichNorms;
    this.addModule('input_layernorm', norm());
    this.addModule('self_attn', new LlamaAttention(c, layer, rope, family, rng.fork('self_attn'), init));
    this.addModule('post_attention_layernorm', norm());
    if (this.sandwich) {
      this.addModule('pre_feedforward_layernorm', norm());
      this.addModule('post_feedforward_layernorm', norm());
    }
    this.addModule('mlp', new LlamaMlp(c, layer, family, family.activation(c), rng.fork('mlp'), init));
  }

  forward(x: tf.Tensor, packed?: PackedPositions): tf.Tensor {
    return tf.tidy(() => {
      const attention = (y: tf.Tensor) => this.child<LlamaAttention>('self_attn').forward(y, packed);
      if (this.sandwich) {
        const h = x.add(this.child('post_attention_layernorm').forward(attention(this.child('input_layernorm').forward(x)))); // [B, T, C]
        return h.add(this.child('post_feedforward_layernorm').forward(this.child('mlp').forward(this.child('pre_feedforward_layernorm').forward(h)))); // [B, T, C]
      }
      const h = x.add(attention(this.child('input_layernorm').forward(x))); // [B, T, C]
      return h.add(this.child('mlp').forward(this.child('post_attention_layernorm').forward(h))); // [B, T, C]
    });
  }

  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const attention = this.child<LlamaAttention>('self_attn').forwardCached(this.child('input_layernorm').forward(x), cache, layer, step);
      if (this.sandwich) {
        const h = x.add(this.child('post_attention_layernorm').forward(attention)); // [B, T, C]
        return h.add(this.child('post_feedforward_layernorm').forward(this.child('mlp').forward(this.child('pre_feedforward_layernorm').forward(h)))); // [B, T, C]
      }
      const h = x.add(attention); // [B, T, C]
      return h.add(this.child('mlp').forward(this.child('post_attention_layernorm').forward(h))); // [B, T, C]
    });
  }
}

/**
 * LlamaModel: embed_tokens (Gemma: times sqrt(hidden_size) in the checkpoint's dtype), layers, final norm.
 * ids [B, T] → hidden states [B, T, C].
 */
class LlamaBackbone extends Module {
  private readonly embedScale: number | null;
  readonly rope: RotaryEmbedding;

  constructor(c: LlamaConfig, family: ModelFamily, rng: Rng, init: 'random' | 'zeros') {
    super();
    const frequencies = ropeFrequencies({
      headDim: c.head_dim,
      theta: c.rope_theta,
      partialRotaryFactor: c.partial_rotary_factor,
      maxPositions: c.max_position_embeddings,
      scaling: c.rope_scaling,
      originalMaxPositions: c.original_max_position_embeddings,
    });
    const rope = new RotaryEmbedding(c.head_dim, c.rope_theta, frequencies);
    this.rope = rope;
    this.embedScale = family.gemma ? gemmaEmbeddingScale(c) : null;
    this.addModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, rng.fork('embed_tokens'), 0.02, init));
    const layers = Array.from({ length: c.num_hidden_layers }, (_, l) => new LlamaDecoderLayer(c, l, rope, family, rng.fork(`layers.${l}`), init));
    this.addModule('layers', new Sequential(layers));
    this.addModule('norm', new RmsNorm(c.hidden_size, c.rms_norm_eps, family.gemma));
  }

  forward(ids: tf.Tensor, packed?: PackedPositions): tf.Tensor {
    return tf.tidy(() => {
      const embedded = this.child('embed_tokens').forward(ids); // [B, T, C]
      const scaled = this.embedScale === null ? embedded : embedded.mul(this.embedScale);
      if (!packed) return this.child('norm').forward(this.child('layers').forward(scaled));
      const layers = this.child<Sequential>('layers');
      let h = scaled;
      for (let l = 0; l < layers.length; l++) h = (layers.at(l) as LlamaDecoderLayer).forward(h, packed);
      return this.child('norm').forward(h);
    });
  }

  /** ids [B, T] → final hidden states [B, T, C] of the new positions (only the last one with `lastOnly`: [B, 1, C]). */
  forwardCached(ids: tf.Tensor, cache: KvCache, step: CacheStep, lastOnly: boolean): tf.Tensor {
    return tf.tidy(() => {
      const layers = this.child<Sequential>('layers');
      const embedded = this.child('embed_tokens').forward(ids); // [B, T, C]
      let h = this.embedScale === null ? embedded : embedded.mul(this.embedScale);
      for (let l = 0; l < layers.length; l++) h = (layers.at(l) as LlamaDecoderLayer).forwardCached(h, cache, l, step);
      if (lastOnly && step.t > 1) h = h.slice([0, step.t - 1, 0], [-1, 1, -1]); // [B, 1, C]
      return this.child('norm').forward(h);
    });
  }
}

/** The tied output layer: logits = x·Eᵀ with the token embedding E [V, C] (no parameters of its own, not a site). */
class TiedLmHead extends Module {
  constructor(private readonly embedding: Embedding) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => unflattenLeading(tf.matMul(flattenLeading(x), this.embedding.weight, false, true), x)); // [N, C]·[C, V] → [N, V]
  }
}

/**
 * LlamaForCausalLM (and the Qwen2, Mistral, Qwen3, Phi3, Gemma, Gemma2 *ForCausalLM) with Hugging Face's module
 * names, so parameter paths are the checkpoint's tensor names (`model.layers.3.self_attn.q_proj.weight`, kernels in
 * tfjs layout [in, out]) and site paths are the module names PEFT's target_modules match
 * (`model.layers.3.self_attn.q_proj`, `…mlp.down_proj`, Phi-3's `…self_attn.qkv_proj`, `lm_head` when untied).
 * ids [B, T] (int32) → logits [B, T, V] (Gemma 2: soft-capped).
 */
export class Llama extends Model implements CachedDecoder {
  readonly architecture = 'llama';
  readonly task = 'language-model';
  readonly config: LlamaConfig;
  readonly family: ModelFamily;

  /** `init: 'zeros'` skips the random draws for weights that are loaded next. */
  constructor(config: JsonObject | Partial<LlamaConfig>, seed: number, init: 'random' | 'zeros' = 'random') {
    super();
    this.config = describeLlama(config as JsonObject).config as LlamaConfig;
    const c = this.config;
    this.family = familyOf(c);
    const rng = new Rng(seed);
    const backbone = this.addModule('model', new LlamaBackbone(c, this.family, rng.fork('model'), init));
    const embedding = backbone.namedChildren().find(([name]) => name === 'embed_tokens')![1] as Embedding;
    this.addModule(
      'lm_head',
      c.tie_word_embeddings
        ? new TiedLmHead(embedding)
        : new Linear(c.hidden_size, c.vocab_size, rng.fork('lm_head'), { role: 'head', layer: null, bias: false, init }),
    );
  }

  override get contextLength(): number {
    return this.config.context;
  }

  /**
   * `positionIds` [B·T] row-major: sequences packed into one row (TRL's padding-free packing): each token's rotary
   * position, and a token reads only the earlier tokens of its own sequence (a sequence starts where the position
   * does not follow the previous one's, e.g. restarts at 0), as transformers does for packed position_ids.
   */
  forward(ids: tf.Tensor, positionIds?: Int32Array): tf.Tensor {
    return tf.tidy(() => {
      const t = ids.shape[1] as number;
      if (t > this.config.max_position_embeddings)
        throw new Error(`sequence of ${t} tokens is longer than max_position_embeddings (${this.config.max_position_embeddings})`);
      const packed = positionIds ? this.packedPositions(ids.shape[0] as number, t, positionIds) : undefined;
      const logits = this.child('lm_head').forward(this.child<LlamaBackbone>('model').forward(ids, packed)); // [B, T, V]
      const cap = this.config.final_logit_softcapping;
      return cap === null ? logits : logits.div(cap).tanh().mul(cap); // Gemma 2: cap · tanh(logits / cap)
    });
  }

  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  /** Rotary tables and masks of packed rows (made inside the caller's tidy). */
  private packedPositions(b: number, t: number, positionIds: Int32Array): PackedPositions {
    if (positionIds.length !== b * t) throw new Error(`Llama.forward: ${positionIds.length} position ids for [${b}, ${t}] tokens`);
    const { cos, sinSigned } = this.child<LlamaBackbone>('model').rope.tablesAt(positionIds, t);
    const d = this.config.head_dim;
    // made here, in the forward pass's tidy, not lazily inside a layer's (which would dispose them after that layer)
    const windows = [null, this.config.sliding_window];
    const masks = new Map(windows.map((w) => [w, packedMask(positionIds, b, t, w)] as const));
    return { cos: tf.tensor4d(cos, [b, 1, t, d]), sin: tf.tensor4d(sinSigned, [b, 1, t, d]), mask: (window) => masks.get(window) ?? masks.get(null)! };
  }

  createCache(batch: number): KvCache {
    return new KvCache(batch, this.config.num_hidden_layers);
  }

  forwardCached(ids: tf.Tensor, cache: KvCache, options: { realRows?: ReadonlyArray<ArrayLike<boolean | number>>; lastOnly?: boolean } = {}): tf.Tensor {
    const t = ids.shape[1] as number;
    if (cache.length + t > this.config.max_position_embeddings)
      throw new Error(`${cache.length} cached + ${t} new tokens are more than max_position_embeddings (${this.config.max_position_embeddings})`);
    const switchAt = this.child<LlamaBackbone>('model').rope.frequencies.longAfter;
    if (switchAt !== undefined && cache.length > 0 && cache.length <= switchAt && cache.length + t > switchAt) {
      // transformers drops the cache here (Phi3ForCausalLM.prepare_inputs_for_generation) and recomputes every key
      throw new Error(
        `longrope: the cache holds ${cache.length} positions rotated with short_factor and this step crosses original_max_position_embeddings (${switchAt}), where every key switches to long_factor; prefill the whole sequence again`,
      );
    }
    const cap = this.config.final_logit_softcapping;
    return withCacheStep(cache, t, options.realRows, (step) =>
      tf.tidy(() => {
        const logits = this.child('lm_head').forward(this.child<LlamaBackbone>('model').forwardCached(ids, cache, step, options.lastOnly ?? false)); // [B, T, V]
        return cap === null ? logits : logits.div(cap).tanh().mul(cap); // Gemma 2
      }),
    );
  }
}

/**
 * Validates a llama config (HF keys plus `context` and `hf_extra`) for its family (model_type, default "llama"),
 * fills the family's defaults (transformers' config class values) and lists the sites.
 */
export function describeLlama(raw: JsonObject): ModelDescription {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('', 'a llama config must be an object');
  const modelType = raw.model_type ?? 'llama';
  const family = typeof modelType === 'string' ? FAMILIES.get(modelType) : undefined;
  if (!family)
    throw new ConfigError('/model_type', `found ${JSON.stringify(modelType)}, allowed: ${LLAMA_MODEL_TYPES.map((t) => JSON.stringify(t)).join(', ')}`);
  for (const key of Object.keys(raw)) {
    if (!LLAMA_KEYS.includes(key)) throw new ConfigError(`/${key}`, `unknown key "${key}"; allowed: ${LLAMA_KEYS.join(', ')}`);
    if (key !== 'context' && key !== 'hf_extra' && !family.keys.includes(key) && raw[key] !== NEUTRAL[key]) {
      const owners = [...FAMILIES.values()].filter((f) => f.keys.includes(key)).map((f) => f.modelType);
      throw new ConfigError(`/${key}`, `"${key}" is not a ${family.modelType} config key (it belongs to ${owners.join(', ')})`);
    }
  }
  const merged: JsonObject = { ...family.defaults };
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) merged[key] = value;
  const int = (key: string, max: number, fallback?: number): number => {
    const v = merged[key] ?? fallback;
    if (v === undefined) throw new ConfigError(`/${key}`, `missing; allowed: an integer from 1 to ${max}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
      throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: an integer from 1 to ${max}`);
    return v;
  };
  const positive = (key: string, fallback: number): number => {
    const v = merged[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: a positive number`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = merged[key] ?? fallback;
    if (typeof v !== 'boolean') throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: true or false`);
    return v;
  };
  const nullableNumber = (key: string): number | null => {
    const v = merged[key] ?? null;
    return family.keys.includes(key) ? (v as number | null) : null;
  };
  merged.hidden_act ??= 'silu';
  const hidden = int('hidden_size', 65536);
  const heads = int('num_attention_heads', 1024);
  const kvHeads = int('num_key_value_heads', 1024, heads);
  const layers = int('num_hidden_layers', 1024);
  if (heads % kvHeads !== 0) throw new ConfigError('/num_key_value_heads', `${heads} attention heads are not a multiple of ${kvHeads} key/value heads`);
  if (merged.head_dim === undefined && hidden % heads !== 0)
    throw new ConfigError('/num_attention_heads', `hidden_size ${hidden} is not divisible by ${heads} heads (and no head_dim is given)`);
  const headDim = int('head_dim', 4096, hidden / heads);
  const partial = family.keys.includes('partial_rotary_factor') ? (merged.partial_rotary_factor as number) : 1;
  family.check(merged, layers);
  const rotary = rotaryDimOf(headDim, partial);
  if (rotary % 2 !== 0 || rotary < 2) {
    throw new ConfigError(
      partial === 1 ? '/head_dim' : '/partial_rotary_factor',
      `rotary embeddings need an even rotary dimension: head_dim ${headDim} × partial_rotary_factor ${partial} gives ${rotary}`,
    );
  }
  const ropeScaling = checkRopeScaling(merged.rope_scaling, rotary);
  const originalPositions = nullableNumber('original_max_position_embeddings');
  if (originalPositions !== null && (!Number.isInteger(originalPositions) || originalPositions < 1)) {
    throw new ConfigError('/original_max_position_embeddings', `found ${JSON.stringify(originalPositions)}, allowed: a positive integer`);
  }
  if (ropeScaling?.rope_type === 'longrope' || ropeScaling?.type === 'longrope') {
    if (originalPositions === null && typeof ropeScaling.factor !== 'number')
      throw new ConfigError('/rope_scaling/factor', 'missing; longrope needs "factor" (or a top-level original_max_position_embeddings)');
  }
  const window = nullableNumber('sliding_window');
  if (window !== null && (!Number.isInteger(window) || window < 1))
    throw new ConfigError('/sliding_window', `found ${JSON.stringify(window)}, allowed: a positive integer or null`);
  const maxPositions = int('max_position_embeddings', 1 << 22, 2048);
  const context = int('context', maxPositions, Math.min(maxPositions, DEFAULT_CONTEXT));
  const extra = merged.hf_extra ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
    throw new ConfigError('/hf_extra', `found ${JSON.stringify(extra)}, allowed: an object`);
  const config: LlamaConfig = {
    model_type: family.modelType as LlamaConfig['model_type'],
    vocab_size: int('vocab_size', 1 << 22),
    hidden_size: hidden,
    intermediate_size: int('intermediate_size', 1 << 20),
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: positive('rms_norm_eps', 1e-6),
    rope_theta: positive('rope_theta', 10000),
    rope_scaling: ropeScaling,
    max_position_embeddings: maxPositions,
    tie_word_embeddings: bool('tie_word_embeddings', false),
    attention_bias: bool('attention_bias', false),
    mlp_bias: bool('mlp_bias', false),
    hidden_act: merged.hidden_act as string,
    partial_rotary_factor: partial,
    original_max_position_embeddings: originalPositions,
    sliding_window: window,
    layer_types: family.keys.includes('layer_types') ? ((merged.layer_types ?? null) as string[] | null) : null,
    hidden_activation: family.keys.includes('hidden_activation') ? ((merged.hidden_activation ?? null) as string | null) : null,
    query_pre_attn_scalar: nullableNumber('query_pre_attn_scalar'),
    attn_logit_softcapping: nullableNumber('attn_logit_softcapping'),
    final_logit_softcapping: nullableNumber('final_logit_softcapping'),
    context,
    hf_extra: extra as JsonObject,
  };
  const sites: Site[] = [];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    for (const [path, role, inFeatures, outFeatures] of layerSites(config)) {
      sites.push({ path: `model.layers.${l}.${path}`, inFeatures, outFeatures, layer: l, role, adapted: false });
    }
  }
  if (!config.tie_word_embeddings)
    sites.push({ path: 'lm_head', inFeatures: hidden, outFeatures: config.vocab_size, layer: null, role: 'head', adapted: false });
  return { architecture: 'llama', task: 'language-model', config, sites, vocabSize: config.vocab_size, contextLength: context };
}
