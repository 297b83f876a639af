/**
 * Local copy of the backend provider contract from `@rankwise/core` (`src/backend/provider.ts`).
 * Copied on purpose: this package must not depend on core; the shapes are structural, so a
 * `provider` exported from here is assignable to core's `BackendProvider`.
 */
import type * as tf from '@tensorflow/tfjs';

/** Adam / AdamW hyper-parameters, as `tf.train.adam` takes them (weightDecay > 0 means decoupled AdamW). */
export interface AdamSpec {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

/** What a backend reports once it has started. */
export interface BackendStarted {
  ok: true;
  /** Name of the registered TensorFlow.js backend (`tf.setBackend(tfBackend)` has already succeeded). */
  tfBackend: string;
  kind: 'gpu' | 'cpu';
  /** Facts worth printing: library paths, thread counts, adapter names, CPU core type… */
  info: Record<string, string | number | boolean>;
  /** A faster optimizer for this backend with exactly `tf.train.adam`'s math (optional). */
  createAdam?: (spec: AdamSpec) => tf.Optimizer;
}

export interface BackendUnavailable {
  ok: false;
  /** Why it cannot start, in one line. */
  reason: string;
}

export type BackendStartResult = BackendStarted | BackendUnavailable;

export interface BackendStartOptions {
  /** Accept software GPU adapters (llvmpipe, SwiftShader). Only when the user named the backend. */
  allowSoftware: boolean;
}

export interface BackendProvider {
  name: string;
  kind: 'gpu' | 'cpu';
  /** How to make it available, shown when the user asked for it by name and it cannot start. */
  install: string;
  start(options: BackendStartOptions): Promise<BackendStartResult>;
}
