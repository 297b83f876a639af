import * as tf from '@tensorflow/tfjs';
import type { AdamSpec } from '../backend/provider.js';
import { GroupedOptimizer, inLoraPlusFastGroup } from './lora-plus.js';

export type OptimizerName = 'adam' | 'adamw' | 'sgd';

export interface OptimizerSpec {
  name: OptimizerName;
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** adamw: decoupled decay (w -= lr·wd·w); sgd: L2 added to the gradient. Ignored by adam. */
  weightDecay?: number;
  /** sgd only. */
  momentum?: number;
  /** LoRA+: lora_B (and 1-D parameters) learn at lr·loraPlusRatio, the rest at lr (PEFT's loraplus_lr_ratio). */
  loraPlusRatio?: number;
}

/** A tfjs optimizer whose learning rate a schedule can change between steps. */
export interface ScheduledOptimizer {
  optimizer: tf.Optimizer;
  setLearningRate(lr: number): void;
  /** Bytes of optimizer state (moments, accumulators), for reports. */
  stateBytes(): number;
}

type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];

interface HasLearningRate {
  learningRate: number;
}

/** Decoupled weight decay (Loshchilov & Hutter) in front of an Adam update: w ← w − lr·wd·w, then Adam. */
class AdamW extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    private readonly weightDecay: number,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(grads: Gradients): void {
    const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
    const lr = (this as unknown as HasLearningRate).learningRate;
    tf.tidy(() => {
      for (const name of names) {
        const variable = tf.engine().registeredVariables[name];
        variable.assign(variable.mul(1 - lr * this.weightDecay));
      }
    });
    super.applyGradients(grads as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  }
}

/**
 * adam = tf.train.adam; adamw = the same plus decoupled decay; sgd = plain or momentum SGD. With `loraPlusRatio`,
 * two of them over PEFT's LoRA+ groups (lora-plus.ts), the second at lr·ratio, both following the schedule.
 * `fastAdam` (from the active backend, e.g. native's fused kernel) replaces adam/adamw when given.
 */
export function createOptimizer(spec: OptimizerSpec, fastAdam?: (spec: AdamSpec) => tf.Optimizer): ScheduledOptimizer {
  const ratio = spec.loraPlusRatio;
  if (ratio === undefined) return scheduled(baseOptimizer(spec, spec.lr, fastAdam));
  if (!(Number.isFinite(ratio) && ratio > 0)) throw new Error(`optimizer.loraPlusRatio must be a positive number, got ${ratio}`);
  const grouped = new GroupedOptimizer(baseOptimizer(spec, spec.lr, fastAdam), baseOptimizer(spec, spec.lr * ratio, fastAdam), inLoraPlusFastGroup);
  return {
    optimizer: grouped,
    setLearningRate(lr: number) {
      assignLearningRate(grouped.slow, lr);
      assignLearningRate(grouped.fast, lr * ratio);
    },
    stateBytes: () => stateSize(grouped.slow) + stateSize(grouped.fast),
  };
}

/**
 * tfjs's SGD and momentum optimizers update with a scalar tensor (`c` = −lr) made by their own setLearningRate, so
 * writing `learningRate` alone would leave them at the first rate; Adam (tfjs's and the native one) reads the field.
 */
function assignLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as HasLearningRate & { setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return; // a constant schedule: SGD's tensor is still right
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

function scheduled(optimizer: tf.Optimizer): ScheduledOptimizer {
  return {
    optimizer,
    setLearningRate(lr: number) {
      assignLearningRate(optimizer, lr);
    },
    stateBytes: () => stateSize(optimizer),
  };
}

function baseOptimizer(spec: OptimizerSpec, lr: number, fastAdam?: (spec: AdamSpec) => tf.Optimizer): tf.Optimizer {
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const epsilon = spec.eps ?? 1e-8;
  const weightDecay = spec.weightDecay ?? (spec.name === 'adamw' ? 0.01 : 0);
  let optimizer: tf.Optimizer;
  if (spec.name === 'sgd') {
    optimizer = spec.momentum ? disposingLearningRate(tf.train.momentum(lr, spec.momentum)) : tf.train.sgd(lr);
    if (weightDecay > 0) optimizer = withL2(optimizer, weightDecay);
  } else {
    const decay = spec.name === 'adamw' ? weightDecay : 0;
    optimizer = fastAdam
      ? fastAdam({ learningRate: lr, beta1, beta2, epsilon, weightDecay: decay })
      : decay > 0
        ? new AdamW(lr, beta1, beta2, epsilon, decay)
        : tf.train.adam(lr, beta1, beta2, epsilon);
  }
  return optimizer;
}

type Slots = Array<{ variable: tf.Variable } | undefined>;
interface OptimizerSlots {
  accumulatedFirstMoment?: Slots;
  accumulatedSecondMoment?: Slots;
  accumulations?: Slots;
}

/** Slot variables (Adam's m and v, momentum accumulators) are float32 tf.Variables the optimizer owns. */
function stateSize(optimizer: tf.Optimizer): number {
  const slots = optimizer as unknown as OptimizerSlots;
  const all = [...(slots.accumulatedFirstMoment ?? []), ...(slots.accumulatedSecondMoment ?? []), ...(slots.accumulations ?? [])];
  return all.reduce((n, s) => n + (s?.variable.size ?? 0) * 4, 0);
}

/** SGD with L2 weight decay: g ← g + wd·w before the update. */
function withL2(optimizer: tf.Optimizer, weightDecay: number): tf.Optimizer {
  const apply = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (grads: Gradients) => {
    const map: tf.NamedTensorMap = Array.isArray(grads) ? Object.fromEntries(grads.map((g) => [g.name, g.tensor])) : grads;
    const decayed = tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(map)) out[name] = g.add(tf.engine().registeredVariables[name].mul(weightDecay));
      return out;
    });
    apply(decayed);
    tf.dispose(decayed);
  };
  return optimizer;
}

/** tfjs's MomentumOptimizer.dispose forgets the learning-rate scalar (`c`) of its SGD parent: dispose it too. */
function disposingLearningRate(optimizer: tf.MomentumOptimizer): tf.MomentumOptimizer {
  const dispose = optimizer.dispose.bind(optimizer);
  optimizer.dispose = () => {
    dispose();
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  };
  return optimizer;
}
