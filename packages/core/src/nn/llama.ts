import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';
import { ConfigError, type ModelDescription } from './description.js';
import { Embedding } from './embedding.js';
import { attendBlocks, KvCache, withCacheStep, type CacheStep, type CachedDecoder } from './kv-cache.js';
import { flattenLeading, Linear, unflattenLeading } from './linear.js';
import { Model, type JsonObject, type JsonValue } from './model.js';
import { Module } from './module.js';
import { RmsNorm } from './rmsnorm.js';
import { RotaryEmbedding } from './rotary.js';
import { Sequential } from './sequential.js';
import type { Site } from './site.js';

/**
 * A Llama-family decoder in Hugging Face's config vocabulary (config.json keys, snake_case), so a checkpoint's
 * config.json maps onto it key for key. `context` is rankwise's own: the window length training and evaluation use
 * (at most max_position_embeddings). `hf_extra` keeps the checkpoint's other config.json keys (bos/eos ids,
 * _name_or_path, …) so a saved model's config.json carries them again.
 */
export interface LlamaConfig extends JsonObject {
  /** 'llama' (LlamaForCausalLM) or 'qwen2' (Qwen2ForCausalLM: biases on q, k, v). */
  model_type: 'llama' | 'qwen2';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  /** Llama: biases on q, k, v and o (Qwen2 always has q, k, v biases and never an o bias). */
  attention_bias: boolean;
  mlp_bias: boolean;
  hidden_act: 'silu';
  context: number;
  hf_extra: JsonObject;
}

export const LLAMA_MODEL_TYPES = ['llama', 'qwen2'] as const;
const LLAMA_KEYS = [
  'model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
  'head_dim', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'tie_word_embeddings', 'attention_bias', 'mlp_bias', 'hidden_act',
  'context', 'hf_extra',
] as const;
/** Used when a config omits them: transformers' LlamaConfig defaults, and a 512-token training window. */
const DEFAULT_CONTEXT = 512;

/** Which of q, k, v, o carry a bias. */
function attentionBiases(c: LlamaConfig): Record<'q_proj' | 'k_proj' | 'v_proj' | 'o_proj', boolean> {
  const qkv = c.model_type === 'qwen2' || c.attention_bias;
  return { q_proj: qkv, k_proj: qkv, v_proj: qkv, o_proj: c.model_type === 'llama' && c.attention_bias };
}

/** The site shapes of one decoder layer: [name, role, in, out]. */
function layerSites(c: LlamaConfig): Array<[string, string, number, number]> {
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
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

/** Additive causal mask for grouped queries: [rep·T, T], row g·T + i may read keys 0…i (0), not later ones (−1e9). */
const maskCache = new Map<string, Float32Array>();
function groupedCausalMask(t: number, rep: number): tf.Tensor2D {
  const key = `${t}x${rep}`;
  let values = maskCache.get(key);
  if (!values) {
    values = new Float32Array(rep * t * t);
    for (let g = 0; g < rep; g++) for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[(g * t + i) * t + j] = -1e9;
    maskCache.set(key, values);
  }
  return tf.tensor2d(values, [rep * t, t]);
}

/**
 * LlamaAttention: q/k/v/o projections (sites), rotary embeddings on q and k, grouped-query attention where query head
 * h reads key/value head ⌊h / (heads / kv_heads)⌋ (HF's repeat_kv), without materialising the repeated k and v: the
 * queries of one key/value head are stacked along the time axis instead. [B, T, C] → [B, T, C].
 */
class LlamaAttention extends Module {
  private readonly rep: number;

  constructor(private readonly c: LlamaConfig, layer: number, private readonly rope: RotaryEmbedding, rng: Rng, init: 'random' | 'zeros') {
    super();
    this.rep = c.num_attention_heads / c.num_key_value_heads;
    const biases = attentionBiases(c);
    for (const [path, role, inF, outF] of layerSites(c).slice(0, 4)) {
      const name = path.slice('self_attn.'.length) as keyof typeof biases;
      this.addModule(name, new Linear(inF, outF, rng.fork(name), { role, layer, bias: biases[name], init }));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      const { num_attention_heads: h, num_key_value_heads: kv, head_dim: hd } = this.c;
      const heads = (name: string, n: number) => this.child(name).forward(x).reshape([b, t, n, hd]).transpose([0, 2, 1, 3]); // [B, n, T, hd]
      const q = this.rope.apply(heads('q_proj', h)).reshape([b, kv, this.rep * t, hd]); // [B, KV, rep·T, hd]
      const k = this.rope.apply(heads('k_proj', kv)); // [B, KV, T, hd]
      const v = heads('v_proj', kv); // [B, KV, T, hd]
      const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)); // [B, KV, rep·T, hd]·[B, KV, hd, T] → [B, KV, rep·T, T]
      const weights = tf.softmax(scores.add(groupedCausalMask(t, this.rep)), -1); // [B, KV, rep·T, T]
      const mixed = tf.matMul(weights, v); // [B, KV, rep·T, T]·[B, KV, T, hd] → [B, KV, rep·T, hd]
      const merged = mixed.reshape([b, h, t, hd]).transpose([0, 2, 1, 3]).reshape([b, t, h * hd]); // [B, T, H·hd]
      return this.child('o_proj').forward(merged); // [B, T, C]
    });
  }

  /** The new positions of x [B, T, C] against the cached keys and values of `layer` (extended by theirs). [B, T, C] → [B, T, C]. */
  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      const { num_attention_heads: h, num_key_value_heads: kv, head_dim: hd } = this.c;
      const heads = (name: string, n: number) => this.child(name).forward(x).reshape([b, t, n, hd]).transpose([0, 2, 1, 3]); // [B, n, T, hd]
      const q = this.rope.applyAt(heads('q_proj', h), step).reshape([b, kv, this.rep * t, hd]); // [B, KV, rep·T, hd]
      const blocks = cache.append(layer, this.rope.applyAt(heads('k_proj', kv), step), heads('v_proj', kv)); // [B, KV, S_i, hd] each, ΣS_i = S+T
      const { mask } = step;
      const masked = mask && ((scores: tf.Tensor) => // [B, KV, rep·T, S+T] + the mask of each row's T new tokens
        scores.reshape([b, kv, this.rep, t, step.total]).add(mask.reshape([b, 1, 1, t, step.total])).reshape([b, kv, this.rep * t, step.total]));
      const mixed = attendBlocks(q, blocks, 1 / Math.sqrt(hd), masked); // softmax(q·Kᵀ/√hd + mask)·V: [B, KV, rep·T, hd]
      const merged = mixed.reshape([b, h, t, hd]).transpose([0, 2, 1, 3]).reshape([b, t, h * hd]); // [B, T, H·hd]
      return this.child('o_proj').forward(merged); // [B, T, C]
    });
  }
}

/** LlamaMLP (SwiGLU): down(silu(gate(x)) · up(x)). [B, T, C] → [B, T, I] → [B, T, C]. */
class LlamaMlp extends Module {
  constructor(c: LlamaConfig, layer: number, rng: Rng, init: 'random' | 'zeros') {
    super();
    for (const [path, role, inF, outF] of layerSites(c).slice(4)) {
      const name = path.slice('mlp.'.length);
      this.addModule(name, new Linear(inF, outF, rng.fork(name), { role, layer, bias: c.mlp_bias, init }));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gate = this.child('gate_proj').forward(x); // [B, T, I]
      const up = this.child('up_proj').forward(x); // [B, T, I]
      return this.child('down_proj').forward(gate.mul(tf.sigmoid(gate)).mul(up)); // silu(gate)·up → [B, T, C]
    });
  }
}

/** LlamaDecoderLayer: x + attn(norm(x)), then + mlp(norm(·)). */
class LlamaDecoderLayer extends Module {
  constructor(c: LlamaConfig, layer: number, rope: RotaryEmbedding, rng: Rng, init: 'random' | 'zeros') {
    super();
    this.addModule('input_layernorm', new RmsNorm(c.hidden_size, c.rms_norm_eps));
    this.addModule('self_attn', new LlamaAttention(c, layer, rope, rng.fork('self_attn'), init));
    this.addModule('post_attention_layernorm', new RmsNorm(c.hidden_size, c.rms_norm_eps));
    this.addModule('mlp', new LlamaMlp(c, layer, rng.fork('mlp'), init));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = x.add(this.child('self_attn').forward(this.child('input_layernorm').forward(x))); // [B, T, C]
      return h.add(this.child('mlp').forward(this.child('post_attention_layernorm').forward(h))); // [B, T, C]
    });
  }

  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const attention = this.child<LlamaAttention>('self_attn').forwardCached(this.child('input_layernorm').forward(x), cache, layer, step);
      const h = x.add(attention); // [B, T, C]
      return h.add(this.child('mlp').forward(this.child('post_attention_layernorm').forward(h))); // [B, T, C]
    });
  }
}

/** LlamaModel: embed_tokens, layers, final norm. ids [B, T] → hidden states [B, T, C]. */
class LlamaBackbone extends Module {
  constructor(c: LlamaConfig, rng: Rng, init: 'random' | 'zeros') {
    super();
    const rope = new RotaryEmbedding(c.head_dim, c.rope_theta);
    this.addModule('embed_tokens', new Embedding(c.vocab_size, c.hidden_size, rng.fork('embed_tokens'), 0.02, init));
    const layers = Array.from({ length: c.num_hidden_layers }, (_, l) => new LlamaDecoderLayer(c, l, rope, rng.fork(`layers.${l}`), init));
    this.addModule('layers', new Sequential(layers));
    this.addModule('norm', new RmsNorm(c.hidden_size, c.rms_norm_eps));
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child('norm').forward(this.child('layers').forward(this.child('embed_tokens').forward(ids))));
  }

  /** ids [B, T] → final hidden states [B, T, C] of the new positions (only the last one with `lastOnly`: [B, 1, C]). */
  forwardCached(ids: tf.Tensor, cache: KvCache, step: CacheStep, lastOnly: boolean): tf.Tensor {
    return tf.tidy(() => {
      const layers = this.child<Sequential>('layers');
      let h = this.child('embed_tokens').forward(ids); // [B, T, C]
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
 * LlamaForCausalLM (and Qwen2ForCausalLM) with Hugging Face's module names, so parameter paths are the checkpoint's
 * tensor names (`model.layers.3.self_attn.q_proj.weight`, kernels in tfjs layout [in, out]) and site paths are the
 * module names PEFT's target_modules match (`model.layers.3.self_attn.q_proj`, `…mlp.down_proj`, `lm_head` when untied).
 * ids [B, T] (int32) → logits [B, T, V].
 */
export class Llama extends Model implements CachedDecoder {
  readonly architecture = 'llama';
  readonly task = 'language-model';
  readonly config: LlamaConfig;

  /** `init: 'zeros'` skips the random draws for weights that are loaded next. */
  constructor(config: JsonObject | Partial<LlamaConfig>, seed: number, init: 'random' | 'zeros' = 'random') {
    super();
    this.config = describeLlama(config as JsonObject).config as LlamaConfig;
    const c = this.config;
    const rng = new Rng(seed);
    const backbone = this.addModule('model', new LlamaBackbone(c, rng.fork('model'), init));
    const embedding = backbone.namedChildren().find(([name]) => name === 'embed_tokens')![1] as Embedding;
    this.addModule('lm_head', c.tie_word_embeddings ? new TiedLmHead(embedding) : new Linear(c.hidden_size, c.vocab_size, rng.fork('lm_head'), { role: 'head', layer: null, bias: false, init }));
  }

  override get contextLength(): number {
    return this.config.context;
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const t = ids.shape[1] as number;
      if (t > this.config.max_position_embeddings) throw new Error(`sequence of ${t} tokens is longer than max_position_embeddings (${this.config.max_position_embeddings})`);
      return this.child('lm_head').forward(this.child('model').forward(ids)); // [B, T, V]
    });
  }

  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  createCache(batch: number): KvCache {
    return new KvCache(batch, this.config.num_hidden_layers);
  }

  forwardCached(ids: tf.Tensor, cache: KvCache, options: { realRows?: ReadonlyArray<ArrayLike<boolean | number>>; lastOnly?: boolean } = {}): tf.Tensor {
    const t = ids.shape[1] as number;
    if (cache.length + t > this.config.max_position_embeddings) throw new Error(`${cache.length} cached + ${t} new tokens are more than max_position_embeddings (${this.config.max_position_embeddings})`);
    return withCacheStep(cache, t, options.realRows, (step) =>
      tf.tidy(() => this.child('lm_head').forward(this.child<LlamaBackbone>('model').forwardCached(ids, cache, step, options.lastOnly ?? false))), // [B, T, V]
    );
  }
}

/** Validates a llama config (HF keys plus `context` and `hf_extra`), fills defaults and lists the sites. */
export function describeLlama(raw: JsonObject): ModelDescription {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('', 'a llama config must be an object');
  for (const key of Object.keys(raw)) {
    if (!(LLAMA_KEYS as readonly string[]).includes(key)) throw new ConfigError(`/${key}`, `unknown key "${key}"; allowed: ${LLAMA_KEYS.join(', ')}`);
  }
  const int = (key: string, max: number, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (v === undefined) throw new ConfigError(`/${key}`, `missing; allowed: an integer from 1 to ${max}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: an integer from 1 to ${max}`);
    return v;
  };
  const positive = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: a positive number`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'boolean') throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: true or false`);
    return v;
  };
  const modelType = raw.model_type ?? 'llama';
  if (!(LLAMA_MODEL_TYPES as readonly JsonValue[]).includes(modelType)) {
    throw new ConfigError('/model_type', `found ${JSON.stringify(modelType)}, allowed: ${LLAMA_MODEL_TYPES.map((t) => JSON.stringify(t)).join(', ')}`);
  }
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ConfigError('/hidden_act', `found ${JSON.stringify(act)}, allowed: "silu" (SwiGLU MLP)`);
  const hidden = int('hidden_size', 65536);
  const heads = int('num_attention_heads', 1024);
  const kvHeads = int('num_key_value_heads', 1024, heads);
  if (heads % kvHeads !== 0) throw new ConfigError('/num_key_value_heads', `${heads} attention heads are not a multiple of ${kvHeads} key/value heads`);
  if (raw.head_dim === undefined && hidden % heads !== 0) throw new ConfigError('/num_attention_heads', `hidden_size ${hidden} is not divisible by ${heads} heads (and no head_dim is given)`);
  const headDim = int('head_dim', 4096, hidden / heads);
  if (headDim % 2 !== 0) throw new ConfigError('/head_dim', `found ${headDim}: rotary embeddings need an even head dimension`);
  const maxPositions = int('max_position_embeddings', 1 << 22, 2048);
  const context = int('context', maxPositions, Math.min(maxPositions, DEFAULT_CONTEXT));
  const extra = raw.hf_extra ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new ConfigError('/hf_extra', `found ${JSON.stringify(extra)}, allowed: an object`);
  const config: LlamaConfig = {
    model_type: modelType as LlamaConfig['model_type'],
    vocab_size: int('vocab_size', 1 << 22),
    hidden_size: hidden,
    intermediate_size: int('intermediate_size', 1 << 20),
    num_hidden_layers: int('num_hidden_layers', 1024),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: positive('rms_norm_eps', 1e-6),
    rope_theta: positive('rope_theta', 10000),
    max_position_embeddings: maxPositions,
    tie_word_embeddings: bool('tie_word_embeddings', false),
    attention_bias: bool('attention_bias', false),
    mlp_bias: bool('mlp_bias', false),
    hidden_act: 'silu',
    context,
    hf_extra: extra as JsonObject,
  };
  const sites: Site[] = [];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    for (const [path, role, inFeatures, outFeatures] of layerSites(config)) {
      sites.push({ path: `model.layers.${l}.${path}`, inFeatures, outFeatures, layer: l, role, adapted: false });
    }
  }
  if (!config.tie_word_embeddings) sites.push({ path: 'lm_head', inFeatures: hidden, outFeatures: config.vocab_size, layer: null, role: 'head', adapted: false });
  return { architecture: 'llama', task: 'language-model', config, sites, vocabSize: config.vocab_size, contextLength: context };
}
