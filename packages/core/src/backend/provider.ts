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
  /** Why it cannot start, in one short line: "not installed", "native binding missing: …", "no GPU: …". */
  reason: string;
  /** The long story (every library path tried and why each failed), shown with `--verbose`. */
  detail?: string;
}

export type BackendStartResult = BackendStarted | BackendUnavailable;

export interface BackendStartOptions {
  /** Accept software GPU adapters (llvmpipe, SwiftShader). Only when the user named the backend. */
  allowSoftware: boolean;
}

/**
 * A backend package (`@rankwise/backend-native`, `@rankwise/backend-webgpu`) exports `provider` of this type.
 * `start` must never throw: every failure is a `BackendUnavailable` with its reason.
 */
export interface BackendProvider {
  name: string;
  kind: 'gpu' | 'cpu';
  /** How to make it available, shown when the user asked for it by name and it cannot start. */
  install: string;
  start(options: BackendStartOptions): Promise<BackendStartResult>;
}
