import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';
import type { Site, SiteModule } from './site.js';

export interface LinearOptions {
  bias?: boolean;
  role?: string;
  layer?: number | null;
  /**
   * How the weights start: 'random' (default: PyTorch's nn.Linear init, needs an Rng), 'zeros' (no random draw: weights
   * about to be loaded from a file), or existing tensors (W [in, out], bias [out] or null; ownership passes to the Linear).
   */
  init?: 'random' | 'zeros' | { weight: tf.Tensor; bias: tf.Tensor | null };
}

/** True inside tf.grad / tf.variableGrads, where ops are being recorded for backpropagation. */
export function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

const addBias = (y: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor => (bias ? y.add(bias) : y);

/** Flattens leading axes so a 2-D matmul does the work: [..., C] → [N, C]. */
export function flattenLeading(x: tf.Tensor): tf.Tensor2D {
  const c = x.shape[x.shape.length - 1];
  return x.reshape([-1, c]) as tf.Tensor2D;
}

/** Restores the leading axes of `like`: [N, out] → [..., out]. */
export function unflattenLeading(y: tf.Tensor, like: tf.Tensor): tf.Tensor {
  if (like.rank === 2) return y;
  return y.reshape([...like.shape.slice(0, -1), y.shape[y.shape.length - 1]]);
}

/** y = x·W + b with a tfjs-layout kernel W: [in, out]. Init as PyTorch's nn.Linear. */
export class Linear extends Module implements SiteModule {
  readonly role: string;
  readonly layer: number | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng | null,
    options: LinearOptions = {},
  ) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1 || !Number.isInteger(outFeatures) || outFeatures < 1) {
      throw new Error(`Linear needs positive integer sizes, got [${inFeatures}, ${outFeatures}]`);
    }
    this.role = options.role ?? 'hidden';
    this.layer = options.layer ?? null;
    const { init = 'random' } = options;
    if (typeof init === 'object') {
      if (init.weight.shape.join() !== `${inFeatures},${outFeatures}`) {
        throw new Error(`Linear weight must be [${inFeatures}, ${outFeatures}], got [${init.weight.shape.join(', ')}]`);
      }
      this.addParameter('weight', init.weight);
      if (init.bias) this.addParameter('bias', init.bias);
      return;
    }
    if (init === 'zeros') {
      this.addParameter('weight', tf.zeros([inFeatures, outFeatures]));
      if (options.bias ?? true) this.addParameter('bias', tf.zeros([outFeatures]));
      return;
    }
    if (!rng) throw new Error('Linear needs an Rng, init \'zeros\' or initial weights');
    this.addParameter('weight', kaimingUniform([inFeatures, outFeatures], inFeatures, rng));
    if (options.bias ?? true) this.addParameter('bias', uniform([outFeatures], 1 / Math.sqrt(inFeatures), rng));
  }

  get weight(): tf.Variable {
    return this.param('weight');
  }

  get bias(): tf.Variable | null {
    return this.optionalParam('bias');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x2 = flattenLeading(x); // [N, in]
      const bias = this.bias ?? undefined;
      // A frozen W under a gradient tape: plain matMul (+ add), whose gradients are computed only where needed,
      // so no dW = xᵀ·dy is made for a weight nobody trains; the fused op's custom gradient computes all of them.
      const frozen = !this.weight.trainable && recordingGradients();
      const y = frozen
        ? addBias(tf.matMul(x2, this.weight), bias) // [N, in]·[in, out] → [N, out]
        : tf.fused.matMul({ a: x2, b: this.weight, bias }); // [N, in]·[in, out] → [N, out]
      return unflattenLeading(y, x);
    });
  }

  describeSite(path: string): Site {
    return { path, inFeatures: this.inFeatures, outFeatures: this.outFeatures, layer: this.layer, role: this.role, adapted: false };
  }
}
