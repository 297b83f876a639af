import * as tf from '@tensorflow/tfjs';
import { Rng } from './random.js';
import { activate, ACTIVATIONS, type ActivationName } from './activations.js';
import { seededDropout } from './dropout.js';
import { ConfigError, rejectUnknownKeys, type ModelDescription } from './description.js';
import { Linear } from './linear.js';
import { Model, type JsonObject } from './model.js';
import { Sequential } from './sequential.js';

export interface MlpConfig extends JsonObject {
  /** Layer widths, input first: [784, 256, 256, 10]. */
  sizes: number[];
  activation: ActivationName;
  /** Dropout after each hidden activation (training only). */
  dropout: number;
}

/**
 * A classifier: Linear sites `layers.0` … `layers.{n-1}`; hidden ones have role `hidden`, the last `head`.
 * [B, sizes[0]] → logits [B, sizes[n]].
 */
export class Mlp extends Model {
  readonly architecture = 'mlp';
  readonly task = 'classification';
  readonly config: MlpConfig;
  private readonly dropoutRng: Rng;

  constructor(config: Partial<MlpConfig> & Pick<MlpConfig, 'sizes'>, seed: number) {
    super();
    this.config = describeMlp(config).config as MlpConfig;
    const { sizes } = this.config;
    const rng = new Rng(seed);
    const layers = sizes.slice(0, -1).map((n, i) => new Linear(n, sizes[i + 1], rng.fork(`layers.${i}`), { role: mlpRole(i, sizes), layer: i }));
    this.addModule('layers', new Sequential(layers));
    this.dropoutRng = new Rng(seed).fork('dropout');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const layers = this.child<Sequential>('layers');
      let h = x; // [B, sizes[0]]
      for (let i = 0; i < layers.length; i++) {
        h = layers.at(i).forward(h); // [B, sizes[i+1]]
        if (i < layers.length - 1) {
          h = activate(this.config.activation, h);
          h = seededDropout(h, this.config.dropout, this.dropoutRng, this.training);
        }
      }
      return h; // [B, classes]
    });
  }
}

const mlpRole = (i: number, sizes: readonly number[]): string => (i === sizes.length - 2 ? 'head' : 'hidden');

/** Validates an MLP config and lists its sites, without creating tensors. */
export function describeMlp(raw: JsonObject | Partial<MlpConfig>): ModelDescription {
  const input = raw as JsonObject;
  rejectUnknownKeys(input, ['sizes', 'activation', 'dropout']);
  const config: MlpConfig = { activation: 'relu', dropout: 0, sizes: [], ...(raw as Partial<MlpConfig>) };
  const { sizes, activation, dropout } = config;
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ConfigError('/sizes', `mlp sizes must be at least two positive integers, got ${JSON.stringify(sizes)}`);
  }
  if (!ACTIVATIONS.includes(activation)) throw new ConfigError('/activation', `unknown activation "${activation}"; known: ${ACTIVATIONS.join(', ')}`);
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1))
    throw new ConfigError('/dropout', `found ${JSON.stringify(dropout)}, allowed: a number in [0, 1)`);
  const sites = sizes.slice(0, -1).map((n, i) => ({
    path: `layers.${i}`,
    inFeatures: n,
    outFeatures: sizes[i + 1],
    layer: i,
    role: mlpRole(i, sizes),
    adapted: false,
  }));
  return { architecture: 'mlp', task: 'classification', config, sites, inputFeatures: sizes[0], classes: sizes[sizes.length - 1] };
}
