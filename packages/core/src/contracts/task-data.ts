import type * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';
import type { DataSummary, TaskDataLike } from './stage-view.js';

export type { DataSummary } from './stage-view.js';

/** Prepared data for one stage: training batches, the loss, and evaluation, for one task type. */
export interface TaskData extends TaskDataLike {
  name: string;
  /** Examples (classification) or tokens (language modelling). */
  size: number;
  /** A training batch; the caller disposes both tensors. */
  batch(batchSize: number): { x: tf.Tensor; y: tf.Tensor };
  loss(model: Model, x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** The data order's position and random state (JSON), so a resumed run draws the same batches. */
  getSamplerState?(): unknown;
  setSamplerState?(state: unknown): void;
  /** Metrics over the whole split (model in eval mode). */
  evaluate(model: Model, batchSize: number): Promise<Record<string, number>>;
  /** Classification: the class names in label order. */
  classNames?: readonly string[];
  /** Classification: per-class results of the last `evaluate`. */
  perClass?(): Array<{ name: string; examples: number; accuracy: number }>;
  /** What the data is (printed before training, recorded in summary.json). */
  summary?(): DataSummary;
}
