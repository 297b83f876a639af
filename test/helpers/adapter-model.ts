import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Linear, Module, Rng } from '@rankwise/core';
import { EmbeddingSite } from '@rankwise/models';
import { seededTensor } from './numeric.js';

/** test/fixtures/adapters: PEFT adapters a, b, c for `AdapterTestModel`, written by scripts/peft-reference/combine.py. */
export const ADAPTER_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'adapters');

/**
 * The model the fixture adapters fit: ids → emb (EmbeddingSite 16×12) → tanh → proj (Linear 12→10) → tanh →
 * head (Linear 10→14). Three site kinds' worth of LoRA paths in a few hundred weights.
 */
export class AdapterTestModel extends Module {
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.addModule('emb', new EmbeddingSite(seededTensor([16, 12], seed, 0.5)));
    this.addModule('proj', new Linear(12, 10, rng.fork('proj'), { role: 'hidden', layer: 0 }));
    this.addModule('head', new Linear(10, 14, rng.fork('head'), { role: 'head', layer: null }));
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.getSubmodule('emb').forward(ids).tanh(); // [..., 12]
      return this.getSubmodule('head').forward(this.getSubmodule('proj').forward(h).tanh()); // [..., 14]
    });
  }
}

/** Token ids [2, 5] covering the table. */
export function testIds(): tf.Tensor {
  return tf.tensor2d(
    [
      [0, 3, 7, 15, 9],
      [12, 1, 4, 4, 11],
    ],
    [2, 5],
    'int32',
  );
}
