import type * as tf from '@tensorflow/tfjs';
import type { Model } from '../nn/model.js';

/** Prepared data for one stage: training batches, the loss, and evaluation, for one task type. */
export interface TaskData {
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

/** What a training stage's data is: examples, and for token data the tokens, the share carrying loss, truncations. */
export interface DataSummary {
  name: string;
  examples: number;
  classes?: string[];
  inputShape?: number[];
  tokens?: number;
  lossTokens?: number;
  /** lossTokens / tokens. */
  lossShare?: number;
  truncated?: number;
}
