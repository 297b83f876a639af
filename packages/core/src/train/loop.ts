import * as tf from '@tensorflow/tfjs';
import type { Model } from '../nn/model.js';
import type { ProgressTask } from '../progress/reporter.js';
import { throwIfAborted } from '../contracts/abort.js';
import type { TaskData } from '../contracts/task-data.js';
import type { ScheduledOptimizer } from './optimizer.js';
import { learningRateAt } from './schedule.js';
import { trainStep } from './step.js';

export interface LogRecord {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  stepsPerSec: number;
  elapsedMs: number;
}

export interface TrainLoopOptions {
  model: Model;
  data: TaskData;
  variables: tf.Variable[];
  optimizer: ScheduledOptimizer;
  steps: number;
  batchSize: number;
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
}

export interface TrainLoopResult {
  steps: number;
  finalLoss: number;
  durationMs: number;
  stepsPerSec: number;
}

/**
 * The training loop: schedule → batch → one step on exactly `variables` → (every logEvery) read the mean loss.
 * Losses stay on the device between logs so GPU backends are not forced to sync every step.
 */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const started = performance.now();
  let pending: tf.Scalar[] = [];
  let pendingNorms: tf.Scalar[] = [];
  let finalLoss = NaN;
  let lastFields: { loss?: number; lr?: number } = {};
  let lastYield = performance.now();
  try {
    o.model.train();
    for (let step = 0; step < o.steps; step++) {
      if (performance.now() - lastYield > 50) {
        // CPU backends resolve reads as microtasks: let timers, signals (Ctrl-C) and output run.
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      throwIfAborted(o.signal, `training step ${step + 1}/${o.steps}`);
      const lr = learningRateAt(step, o.steps, o.lr, o.schedule);
      o.optimizer.setLearningRate(lr);
      const { x, y } = o.data.batch(o.batchSize);
      const out = trainStep({ loss: () => o.data.loss(o.model, x, y), variables: o.variables, optimizer: o.optimizer.optimizer, clipNorm: o.clipNorm });
      tf.dispose([x, y]);
      pending.push(out.loss);
      pendingNorms.push(out.gradNorm);
      const done = step + 1;
      if (done % o.logEvery === 0 || done === o.steps) {
        const [loss, gradNorm] = await readMeans(pending, pendingNorms);
        pending = [];
        pendingNorms = [];
        finalLoss = loss;
        const elapsedMs = performance.now() - started;
        lastFields = { loss, lr };
        o.onLog({ step: done, loss, gradNorm, lr, stepsPerSec: done / (elapsedMs / 1000), elapsedMs });
        if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${done}: training diverged (lower the learning rate or set clipNorm)`);
      }
      o.progress.update(done, lastFields);
      if (o.evalEvery && o.evalData && done % o.evalEvery === 0 && done !== o.steps) {
        o.model.eval();
        o.onEval?.(done, await o.evalData.evaluate(o.model, o.evalBatchSize ?? 500));
        o.model.train();
      }
    }
  } finally {
    tf.dispose([...pending, ...pendingNorms]);
    o.model.eval();
    o.progress.stop();
  }
  const durationMs = performance.now() - started;
  return { steps: o.steps, finalLoss, durationMs, stepsPerSec: o.steps / (durationMs / 1000) };
}

async function readMeans(losses: tf.Scalar[], norms: tf.Scalar[]): Promise<[number, number]> {
  const means = tf.tidy(() => [tf.stack(losses).mean(), tf.stack(norms).mean()]);
  const [l, n] = await Promise.all(means.map((m) => m.data()));
  tf.dispose([...means, ...losses, ...norms]);
  return [l[0], n[0]];
}
