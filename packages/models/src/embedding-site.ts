import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';
import type { Site, SiteModule } from './site.js';

export interface EmbeddingSiteOptions {
  role?: string;
  layer?: number | null;
}

/**
 * An embedding table that is a LoRA site (Keras Embedding): ids [...] (any dtype, cast to int32) → [..., dim].
 * Built from an existing table [numEmbeddings, dim], whose ownership it takes. (The GPT's own `Embedding` is not a
 * site, so placements over the zoo models are unchanged.)
 */
export class EmbeddingSite extends Module implements SiteModule {
  readonly numEmbeddings: number;
  readonly dim: number;
  readonly role: string;
  readonly layer: number | null;

  constructor(table: tf.Tensor, options: EmbeddingSiteOptions = {}) {
    super();
    if (table.rank !== 2) throw new Error(`embedding table must be [numEmbeddings, dim], got [${table.shape.join(', ')}]`);
    this.numEmbeddings = table.shape[0] as number;
    this.dim = table.shape[1] as number;
    this.role = options.role ?? 'embedding';
    this.layer = options.layer ?? null;
    this.addParameter('weight', table);
  }

  /** [numEmbeddings, dim] */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => lookup(this.weight, ids));
  }

  describeSite(path: string): Site {
    return { path, inFeatures: this.numEmbeddings, outFeatures: this.dim, layer: this.layer, role: this.role, adapted: false };
  }
}

/** Rows of `table` [n, d] at `ids` [...] → [..., d]. */
export function lookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]).toInt(); // [N]
  return tf.gather(table, flat).reshape([...ids.shape, table.shape[1] as number]); // [N, d] → [..., d]
}
