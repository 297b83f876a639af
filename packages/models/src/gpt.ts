import * as tf from '@tensorflow/tfjs';
import { Rng } from './random.js';
import { gelu } from './activations.js';
import { CausalSelfAttention } from './attention.js';
import { ConfigError, rejectUnknownKeys, type ModelDescription } from './description.js';
import { seededDropout } from './dropout.js';
import { Embedding } from './embedding.js';
import { KvCache, withCacheStep, type CacheStep, type CachedDecoder } from './kv-cache.js';
import { LayerNorm } from './layer-norm.js';
import { flattenLeading, Linear, unflattenLeading } from './linear.js';
import { Model, type JsonObject } from './model.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import type { Site } from './site.js';

export interface GptConfig extends JsonObject {
  vocabSize: number;
  /** Embedding width C. */
  dim: number;
  layers: number;
  heads: number;
  /** Longest sequence T the position table covers. */
  context: number;
  dropout: number;
  /** The output head reuses the token embedding (logits = x·Eᵀ); a tied head is not a LoRA site. */
  tiedHead: boolean;
}

/** The MLP of a block: fc [C, 4C] → GELU → proj [4C, C]. */
class FeedForward extends Module {
  constructor(dim: number, layer: number, rng: Rng) {
    super();
    this.addModule('fc', new Linear(dim, 4 * dim, rng.fork('fc'), { role: 'mlp.fc', layer }));
    this.addModule('proj', new Linear(4 * dim, dim, rng.fork('proj'), { role: 'mlp.proj', layer }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child('proj').forward(gelu(this.child('fc').forward(x)))); // [B, T, C] → [B, T, 4C] → [B, T, C]
  }
}

/** Pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)). */
class Block extends Module {
  constructor(
    config: GptConfig,
    layer: number,
    private readonly rng: Rng,
  ) {
    super();
    this.addModule('ln1', new LayerNorm(config.dim));
    this.addModule('attn', new CausalSelfAttention(config.dim, config.heads, layer, config.dropout, rng.fork('attn')));
    this.addModule('ln2', new LayerNorm(config.dim));
    this.addModule('mlp', new FeedForward(config.dim, layer, rng.fork('mlp')));
    this.dropout = config.dropout;
  }

  private readonly dropout: number;

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const drop = (t: tf.Tensor) => seededDropout(t, this.dropout, this.rng, this.training);
      const h = x.add(drop(this.child('attn').forward(this.child('ln1').forward(x)))); // [B, T, C]
      return h.add(drop(this.child('mlp').forward(this.child('ln2').forward(h)))); // [B, T, C]
    });
  }

  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const h = x.add(this.child<CausalSelfAttention>('attn').forwardCached(this.child('ln1').forward(x), cache, layer, step)); // [B, T, C]
      return h.add(this.child('mlp').forward(this.child('ln2').forward(h))); // [B, T, C]
    });
  }
}

/** logits = x·Eᵀ with the token embedding E [V, C]: the head shares the embedding's weights. */
class TiedHead extends Module {
  constructor(private readonly embedding: Embedding) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => unflattenLeading(tf.matMul(flattenLeading(x), this.embedding.weight, false, true), x)); // [N, C]·[C, V] → [N, V]
  }
}

/**
 * A decoder-only character transformer in nanoGPT's shape: token + position embeddings, pre-LN blocks with
 * causal self-attention (sites attn.q/k/v/o) and a GELU MLP (sites mlp.fc, mlp.proj), final LayerNorm, head.
 * ids [B, T] (int32) → logits [B, T, V].
 */
export class Gpt extends Model implements CachedDecoder {
  readonly architecture = 'gpt';
  readonly task = 'language-model';
  readonly config: GptConfig;
  private readonly dropoutRng: Rng;

  constructor(config: Partial<GptConfig>, seed: number) {
    super();
    this.config = describeGpt(config).config as GptConfig;
    const c = this.config;
    const rng = new Rng(seed);
    const wte = this.addModule('wte', new Embedding(c.vocabSize, c.dim, rng.fork('wte')));
    this.addModule('wpe', new Embedding(c.context, c.dim, rng.fork('wpe')));
    this.addModule('blocks', new Sequential(Array.from({ length: c.layers }, (_, l) => new Block(c, l, rng.fork(`blocks.${l}`)))));
    this.addModule('lnF', new LayerNorm(c.dim));
    this.addModule('head', c.tiedHead ? new TiedHead(wte) : new Linear(c.dim, c.vocabSize, rng.fork('head'), { role: 'head', layer: null, bias: false }));
    this.dropoutRng = rng.fork('dropout');
  }

  override get contextLength(): number {
    return this.config.context;
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const t = ids.shape[1] as number;
      if (t > this.config.context) throw new Error(`sequence of ${t} tokens is longer than the context (${this.config.context})`);
      const tokens = this.child('wte').forward(ids); // [B, T, C]
      const positions = this.child<Embedding>('wpe').forward(tf.range(0, t, 1, 'int32').reshape([1, t])); // [1, T, C]
      let h = seededDropout(tokens.add(positions), this.config.dropout, this.dropoutRng, this.training); // [B, T, C]
      h = this.child('blocks').forward(h);
      return this.child('head').forward(this.child('lnF').forward(h)); // [B, T, V]
    });
  }

  get maxPositions(): number {
    return this.config.context;
  }

  createCache(batch: number): KvCache {
    return new KvCache(batch, this.config.layers);
  }

  forwardCached(ids: tf.Tensor, cache: KvCache, options: { realRows?: ReadonlyArray<ArrayLike<boolean | number>>; lastOnly?: boolean } = {}): tf.Tensor {
    const [b, t] = ids.shape as [number, number];
    if (cache.length + t > this.config.context) throw new Error(`${cache.length} cached + ${t} new tokens are more than the context (${this.config.context})`);
    return withCacheStep(cache, t, options.realRows, (step: CacheStep) =>
      tf.tidy(() => {
        const positions = this.child<Embedding>('wpe').forward(tf.tensor2d(step.positions, [b, t], 'int32')); // [B, T, C]
        let h = this.child('wte').forward(ids).add(positions); // [B, T, C]
        const blocks = this.child<Sequential>('blocks');
        for (let l = 0; l < blocks.length; l++) h = (blocks.at(l) as Block).forwardCached(h, cache, l, step);
        if (options.lastOnly && t > 1) h = h.slice([0, t - 1, 0], [-1, 1, -1]); // [B, 1, C]
        return this.child('head').forward(this.child('lnF').forward(h)); // [B, T, V]
      }),
    );
  }
}

const GPT_KEYS = ['vocabSize', 'dim', 'layers', 'heads', 'context', 'dropout', 'tiedHead'];
const GPT_DEFAULTS: Omit<GptConfig, 'vocabSize'> = { dim: 128, layers: 4, heads: 4, context: 128, dropout: 0, tiedHead: false };

/** Validates a GPT config and lists its sites (q, k, v, o, fc, proj per block; head unless tied). */
export function describeGpt(raw: JsonObject | Partial<GptConfig>): ModelDescription {
  rejectUnknownKeys(raw as JsonObject, GPT_KEYS);
  const config = { ...GPT_DEFAULTS, ...(raw as Partial<GptConfig>) } as GptConfig;
  const positive = (key: keyof GptConfig, max: number) => {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
      throw new ConfigError(`/${key}`, `found ${JSON.stringify(v)}, allowed: an integer from 1 to ${max}`);
  };
  if (config.vocabSize === undefined) throw new ConfigError('/vocabSize', 'missing: the number of token ids (characters + 1 for unknown)');
  positive('vocabSize', 1 << 20);
  positive('dim', 8192);
  positive('layers', 256);
  positive('heads', 256);
  positive('context', 65536);
  if (config.dim % config.heads !== 0) throw new ConfigError('/heads', `dim ${config.dim} is not divisible by ${config.heads} heads`);
  if (typeof config.dropout !== 'number' || !(config.dropout >= 0 && config.dropout < 1))
    throw new ConfigError('/dropout', `found ${JSON.stringify(config.dropout)}, allowed: a number in [0, 1)`);
  if (typeof config.tiedHead !== 'boolean') throw new ConfigError('/tiedHead', `found ${JSON.stringify(config.tiedHead)}, allowed: true or false`);
  const { dim, vocabSize } = config;
  const site = (path: string, inFeatures: number, outFeatures: number, layer: number | null, role: string): Site => ({
    path,
    inFeatures,
    outFeatures,
    layer,
    role,
    adapted: false,
  });
  const sites: Site[] = [];
  for (let l = 0; l < config.layers; l++) {
    for (const m of ['q', 'k', 'v', 'o']) sites.push(site(`blocks.${l}.attn.${m}`, dim, dim, l, `attn.${m}`));
    sites.push(site(`blocks.${l}.mlp.fc`, dim, 4 * dim, l, 'mlp.fc'), site(`blocks.${l}.mlp.proj`, 4 * dim, dim, l, 'mlp.proj'));
  }
  if (!config.tiedHead) sites.push(site('head', dim, vocabSize, null, 'head'));
  return { architecture: 'gpt', task: 'language-model', config, sites, vocabSize, contextLength: config.context };
}
