import { Rng } from '@rankwise/models';

/**
 * Seeded epoch shuffling: each epoch is a fresh permutation; a batch that runs past the end of an epoch
 * continues with the next epoch's order, so every batch is full and no example is skipped.
 */
export class EpochSampler {
  private order: Uint32Array;
  private cursor = 0;
  private readonly rng: Rng;

  constructor(
    private readonly n: number,
    seed: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`cannot sample batches from ${n} examples`);
    this.rng = new Rng(seed);
    this.order = this.permutation();
  }

  private permutation(): Uint32Array {
    return this.rng.shuffle(Uint32Array.from({ length: this.n }, (_, i) => i));
  }

  /** Position in the data order (current permutation, cursor, Rng state), for training checkpoints. */
  getState(): { order: number[]; cursor: number; rng: number } {
    return { order: Array.from(this.order), cursor: this.cursor, rng: this.rng.state32 };
  }

  setState(state: { order: number[]; cursor: number; rng: number }): void {
    if (state.order.length !== this.n) throw new Error(`data order of ${state.order.length} examples, but the data has ${this.n}`);
    this.order = Uint32Array.from(state.order);
    this.cursor = state.cursor;
    this.rng.state32 = state.rng;
  }

  next(batchSize: number): Uint32Array {
    const out = new Uint32Array(batchSize);
    for (let k = 0; k < batchSize; k++) {
      if (this.cursor === this.n) {
        this.order = this.permutation();
        this.cursor = 0;
      }
      out[k] = this.order[this.cursor++];
    }
    return out;
  }
}
