/**
 * Mini-batches for classification. Each epoch visits every example once, in an order shuffled with
 * the seeded PRNG (a fresh shuffle per epoch). Nothing is dropped: when a batch reaches the end of
 * an epoch it wraps around and is filled from the start of the next epoch's order, so one batch can
 * hold examples of two epochs (and a batch larger than the data holds some examples twice).
 */
import { checkClassificationData, type ClassificationData } from './classification.js';
import { SplitMix32 } from './random.js';
import { requireInteger, requireSeed } from './validate.js';

export interface ClassificationBatch {
  /** [n, features] row-major. */
  x: Float32Array;
  /** [n]. */
  y: Int32Array;
  n: number;
}

export class ClassificationBatcher {
  private readonly data: ClassificationData;
  private readonly rng: SplitMix32;
  private order: Int32Array;
  private position = 0;
  private completedEpochs = 0;

  constructor(data: ClassificationData, seed: number) {
    checkClassificationData(data);
    this.data = data;
    this.rng = new SplitMix32(requireSeed('seed', seed));
    this.order = this.rng.permutation(data.n);
  }

  /** Number of full passes over the data completed so far (0 during the first epoch). */
  get epoch(): number {
    return this.completedEpochs;
  }

  /** The next `batch` examples (batch: an integer ≥ 1). */
  next(batch: number): ClassificationBatch {
    requireInteger('batch', batch, 1);
    const { features } = this.data;
    const x = new Float32Array(batch * features);
    const y = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      const e = this.order[this.position];
      x.set(this.data.x.subarray(e * features, (e + 1) * features), i * features);
      y[i] = this.data.y[e];
      this.position++;
      if (this.position === this.data.n) {
        this.completedEpochs++;
        this.position = 0;
        this.rng.shuffle(this.order);
      }
    }
    return { x, y, n: batch };
  }
}
