import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';
import { activate, ACTIVATIONS, type ActivationName } from './activations.js';
import { seededDropout } from './dropout.js';
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
    this.config = { activation: 'relu', dropout: 0, ...config };
    const { sizes, activation } = this.config;
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new Error(`mlp sizes must be at least two positive integers, got [${sizes.join(', ')}]`);
    }
    if (!ACTIVATIONS.includes(activation)) throw new Error(`unknown activation "${activation}"; known: ${ACTIVATIONS.join(', ')}`);
    const rng = new Rng(seed);
    const last = sizes.length - 2;
    const layers = sizes.slice(0, -1).map(
      (n, i) => new Linear(n, sizes[i + 1], rng.fork(`layers.${i}`), { role: i === last ? 'head' : 'hidden', layer: i }),
    );
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
