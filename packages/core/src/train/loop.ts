import * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';
import type { ProgressTask } from '../progress/reporter.js';
import { throwIfAborted } from '../contracts/abort.js';
import type { TaskData } from '../contracts/task-data.js';
import type { LoopState } from './checkpoint.js';
import { checkFiniteSteps, DivergenceGuard, type DivergenceRule } from './finite-guard.js';
import type { ScheduledOptimizer } from './optimizer.js';
import { learningRateAt } from './schedule.js';
import { accumulatedTrainStep, trainStep } from './step.js';

export interface LogRecord {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  stepsPerSec: number;
  elapsedMs: number;
}

/** When and how the loop saves its state (see train/checkpoint.ts). */
export interface CheckpointPolicy {
  /** Save every this many steps; without it, about every `everyMs` of training. */
  everySteps?: number;
  /** Default one minute. */
  everyMs?: number;
  save(state: LoopState): Promise<void>;
}

export interface TrainLoopOptions {
  model: Model;
  data: TaskData;
  variables: tf.Variable[];
  optimizer: ScheduledOptimizer;
  /** Optimizer steps (the schedule, progress, logs and checkpoints count these). */
  steps: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are averaged into one optimizer step (default 1). */
  accumulateSteps?: number;
  lr: number;
  schedule?: { type: 'constant' | 'cosine'; warmupSteps?: number; minLr?: number };
  clipNorm?: number;
  /** Read the loss back (a device sync) and log every this many steps. */
  logEvery: number;
  evalEvery?: number;
  evalData?: TaskData;
  evalBatchSize?: number;
  signal: AbortSignal;
  progress: ProgressTask;
  onLog(record: LogRecord): void;
  onEval?(step: number, metrics: Record<string, number>): void;
  /** Stop when a logged loss exceeds `factor` × the early mean. */
  divergence?: DivergenceRule;
  checkpoint?: CheckpointPolicy;
  /** Continue from a checkpoint's loop state (the tensors, data order and random streams already restored). */
  resume?: LoopState | null;
}

export interface TrainLoopResult {
  steps: number;
  /** The first logged loss (NaN when nothing was logged). */
  firstLoss: number;
  finalLoss: number;
  durationMs: number;
  stepsPerSec: number;
}

/**
 * The training loop: schedule → batch → one step on exactly `variables` → (every logEvery) read the losses back.
 * Losses stay on the device between reads so GPU backends are not forced to sync every step. Every loss and
 * gradient norm read back is checked: the first non-finite one stops training (exit 1), naming its step.
 */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const resumed = o.resume ?? null;
  const started = performance.now() - (resumed?.elapsedMs ?? 0);
  let pending: tf.Scalar[] = [];
  let pendingNorms: tf.Scalar[] = [];
  // Values read back but not yet logged (a checkpoint between logs reads them early).
  let window = [...(resumed?.window ?? [])];
  let windowNorms = [...(resumed?.windowNorms ?? [])];
  let finalLoss = resumed?.finalLoss ?? NaN;
  let firstLoss = resumed?.firstLoss ?? NaN;
  let lastFields: { loss?: number; lr?: number } = { ...(resumed?.lastFields ?? {}) };
  const divergence = new DivergenceGuard(o.divergence);
  divergence.restore(resumed?.early ?? []);
  let lastYield = performance.now();
  let lastCheckpoint = performance.now();
  /** Steps/s counts only this process's steps (a resumed run's clock restarts). */
  const clockStart = performance.now();
  const firstStep = resumed?.step ?? 0;
  const drain = async (done: number) => {
    if (pending.length === 0) return;
    const [losses, norms] = await readAll(pending, pendingNorms);
    pending = [];
    pendingNorms = [];
    checkFiniteSteps(losses, norms, done - losses.length + 1);
    window.push(...losses);
    windowNorms.push(...norms);
  };
  try {
    o.model.train();
    if (firstStep > 0) o.progress.update(firstStep, lastFields);
    for (let step = firstStep; step < o.steps; step++) {
      if (performance.now() - lastYield > 50) {
        // CPU backends resolve reads as microtasks: let timers, signals (Ctrl-C) and output run.
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      throwIfAborted(o.signal, `training step ${step + 1}/${o.steps}`);
      const lr = learningRateAt(step, o.steps, o.lr, o.schedule);
      o.optimizer.setLearningRate(lr);
      const out = runStep(o);
      pending.push(out.loss);
      pendingNorms.push(out.gradNorm);
      const done = step + 1;
      if (done % o.logEvery === 0 || done === o.steps) {
        await drain(done);
        const loss = mean(window);
        const gradNorm = mean(windowNorms);
        window = [];
        windowNorms = [];
        finalLoss = loss;
        if (Number.isNaN(firstLoss)) firstLoss = loss;
        const elapsedMs = performance.now() - started;
        lastFields = { loss, lr };
        o.onLog({ step: done, loss, gradNorm, lr, stepsPerSec: (done - firstStep) / ((performance.now() - clockStart) / 1000), elapsedMs });
        divergence.check(done, loss);
      }
      o.progress.update(done, lastFields);
      if (o.evalEvery && o.evalData && done % o.evalEvery === 0 && done !== o.steps) {
        o.model.eval();
        o.onEval?.(done, await o.evalData.evaluate(o.model, o.evalBatchSize ?? 500));
        o.model.train();
      }
      const policy = o.checkpoint;
      if (policy && done < o.steps) {
        const due = policy.everySteps ? done % policy.everySteps === 0 : performance.now() - lastCheckpoint >= (policy.everyMs ?? 60_000);
        if (due) {
          await drain(done);
          await policy.save({
            step: done,
            window,
            windowNorms,
            firstLoss,
            finalLoss,
            elapsedMs: performance.now() - started,
            lastFields,
            early: divergence.state,
          });
          lastCheckpoint = performance.now();
        }
      }
    }
  } finally {
    tf.dispose([...pending, ...pendingNorms]);
    o.model.eval();
    o.progress.stop();
  }
  const durationMs = performance.now() - started;
  return { steps: o.steps, firstLoss, finalLoss, durationMs, stepsPerSec: o.steps / (durationMs / 1000) };
}

/** One optimizer step: one batch, or `accumulateSteps` micro-batches drawn one after another. */
function runStep(o: TrainLoopOptions): { loss: tf.Scalar; gradNorm: tf.Scalar } {
  const common = { variables: o.variables, optimizer: o.optimizer.optimizer, clipNorm: o.clipNorm };
  const micro = o.accumulateSteps ?? 1;
  if (micro === 1) {
    const { x, y } = o.data.batch(o.batchSize);
    try {
      return trainStep({ loss: () => o.data.loss(o.model, x, y), ...common });
    } finally {
      tf.dispose([x, y]);
    }
  }
  let drawn: tf.Tensor[] = [];
  try {
    return accumulatedTrainStep({
      ...common,
      microBatches: micro,
      microLoss: () => {
        tf.dispose(drawn);
        const { x, y } = o.data.batch(o.batchSize);
        drawn = [x, y];
        return o.data.loss(o.model, x, y);
      },
    });
  } finally {
    tf.dispose(drawn);
  }
}

/** The mean of the float32 values read back (NaN for none). */
function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

async function readAll(losses: tf.Scalar[], norms: tf.Scalar[]): Promise<[Float32Array, Float32Array]> {
  const stacked = tf.tidy(() => [tf.stack(losses), tf.stack(norms)]);
  const [l, n] = await Promise.all(stacked.map((m) => m.data()));
  tf.dispose([...stacked, ...losses, ...norms]);
  return [l as Float32Array, n as Float32Array];
}
