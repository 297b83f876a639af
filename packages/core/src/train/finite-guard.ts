import { assertFiniteTensor } from '@rankwise/formats';

export { assertFiniteTensor, firstNonFinite } from '@rankwise/formats';

/**
 * PEFT's `safe_merge` idea applied everywhere: a non-finite value (NaN, ±Infinity) stops training, loading,
 * merging and saving with a message naming where it appeared, instead of being carried silently into results.
 */

/** A training stopped by a non-finite loss or gradient norm, or by the divergence rule: exit 1 (run failed). */
export class TrainingDiverged extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDiverged';
  }
}

/** Stops at the first non-finite loss or gradient norm; `firstStep` is the 1-based step of `losses[0]`. */
export function checkFiniteSteps(losses: ArrayLike<number>, norms: ArrayLike<number>, firstStep: number): void {
  for (let i = 0; i < losses.length; i++) {
    const loss = losses[i];
    const norm = norms[i];
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      const what = !Number.isFinite(loss) ? `loss is ${loss}` : `gradient norm is ${norm} (loss ${loss})`;
      throw new TrainingDiverged(`${what} at step ${firstStep + i}: training diverged; nothing was saved (lower the learning rate or set clipNorm)`);
    }
  }
}

export interface DivergenceRule {
  /** Stop when a logged loss exceeds this multiple of the early mean. */
  factor: number;
  /** How many logged losses make the early mean (default 3). */
  window?: number;
}

/** The optional divergence rule: a logged loss above `factor` × the mean of the first `window` logged losses. */
export class DivergenceGuard {
  private readonly early: number[] = [];

  constructor(private readonly rule: DivergenceRule | undefined) {}

  /** The early losses seen so far (saved in training checkpoints). */
  get state(): number[] {
    return [...this.early];
  }

  restore(state: readonly number[]): void {
    this.early.splice(0, this.early.length, ...state);
  }

  check(step: number, loss: number): void {
    if (!this.rule) return;
    const window = this.rule.window ?? 3;
    if (this.early.length < window) {
      this.early.push(loss);
      return;
    }
    const mean = this.early.reduce((a, b) => a + b, 0) / this.early.length;
    if (loss > this.rule.factor * mean) {
      throw new TrainingDiverged(
        `loss ${loss.toPrecision(5)} at step ${step} is above ${this.rule.factor}× its early mean ${mean.toPrecision(5)}: training diverged; nothing was saved (lower the learning rate or set clipNorm)`,
      );
    }
  }
}

/** Every parameter of `model` is finite, or an error naming the first that is not (read asynchronously). */
export async function assertFiniteParameters(
  model: { namedParameters(): Array<[string, { data(): Promise<ArrayLike<number> | Uint8Array> }]> },
  where: string,
  action: string,
): Promise<void> {
  for (const [name, variable] of model.namedParameters()) {
    assertFiniteTensor(where, name, (await variable.data()) as ArrayLike<number>, action);
  }
}

/** A warning when training ended with a higher loss than it started with (the divergence rule was off). */
export function lossRoseWarning(firstLoss: number, finalLoss: number): string | null {
  if (!(finalLoss > firstLoss) || !Number.isFinite(firstLoss)) return null;
  return `warning: the loss rose from ${firstLoss.toPrecision(4)} to ${finalLoss.toPrecision(4)}; training may have diverged (lower the learning rate, set clipNorm, or add "divergence": { "factor": 3 } to stop such runs)`;
}
