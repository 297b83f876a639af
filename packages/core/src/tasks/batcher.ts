import { Rng } from '../random.js';

/**
 * Seeded epoch shuffling: each epoch is a fresh permutation; a batch that runs past the end of an epoch
 * continues with the next epoch's order, so every batch is full and no example is skipped.
 */
export class EpochSampler {
  private order: Uint32Array;
  private cursor = 0;
  private readonly rng: Rng;
  epoch = 0;

  constructor(
    private readonly n: number,
    seed: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`cannot sample batches from ${n} examples`);
    this.rng = new Rng(seed);
    this.order = this.permutation();
  }

  private permutation(): Uint32Array {
    const order = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    for (let i = this.n - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  next(batchSize: number): Uint32Array {
    const out = new Uint32Array(batchSize);
    for (let k = 0; k < batchSize; k++) {
      if (this.cursor === this.n) {
        this.order = this.permutation();
        this.cursor = 0;
        this.epoch++;
      }
      out[k] = this.order[this.cursor++];
    }
    return out;
  }
}
