/**
 * Fused Adam / AdamW: one native pass per variable updates w, m and v in place, with tf.train.adam's
 * float32 math step for step (tfjs-core/src/optimizers/adam_optimizer.ts). It keeps AdamOptimizer's
 * own state (accBeta1/2, the m and v variables), so getWeights / setWeights / dispose are inherited.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import type { AdamSpec } from './types.js';

/** AdamOptimizer's private state (same names as in tfjs-core). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

type Gradients = tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>;

export class NativeAdamOptimizer extends tf.AdamOptimizer {
  readonly weightDecay: number;

  constructor(
    private readonly addon: NativeAddon,
    private readonly backendName: string,
    spec: AdamSpec,
  ) {
    super(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
    // biome-ignore lint/complexity/useMathMinMax: Math.max would keep a NaN weight decay; this makes it 0
    this.weightDecay = spec.weightDecay > 0 ? spec.weightDecay : 0;
  }

  private get state(): AdamState {
    return this as unknown as AdamState;
  }

  override applyGradients(variableGradients: Gradients): void {
    const fused = tf.getBackend() === this.backendName && this.fusedUpdate(variableGradients, tf.backend() as NativeBackend);
    if (!fused) this.referenceUpdate(variableGradients);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }

  /** tfjs's ops (any backend): decoupled decay first, then tf.train.adam's update. */
  private referenceUpdate(variableGradients: Gradients): void {
    if (this.weightDecay > 0) {
      const decay = this.learningRate * this.weightDecay;
      tf.tidy(() => {
        for (const { value, gradient } of pairs(variableGradients)) {
          if (value && gradient) value.assign(tf.sub(value, tf.mul(value, decay)));
        }
      });
    }
    super.applyGradients(variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
  }

  /** false (and nothing changed) when some tensor is not float32 data of this backend. */
  private fusedUpdate(variableGradients: Gradients, backend: NativeBackend): boolean {
    const { accBeta1, accBeta2, accumulatedFirstMoment: ms, accumulatedSecondMoment: vs } = this.state;
    const acc1 = ownFloats(backend, accBeta1);
    const acc2 = ownFloats(backend, accBeta2);
    if (!acc1 || !acc2) return false;
    const work: Array<{ value: tf.Variable; gradient: Float32Array | undefined; index: number }> = [];
    for (const [index, { value, gradient }] of pairs(variableGradients).entries()) {
      if (!value || !ownFloats(backend, value)) return false;
      const g = gradient == null ? undefined : ownFloats(backend, gradient);
      if (gradient != null && g?.length !== value.size) return false;
      for (const slot of [ms[index], vs[index]]) {
        if (slot && ownFloats(backend, slot.variable)?.length !== value.size) return false;
      }
      work.push({ value, gradient: g, index });
    }
    const params = Float32Array.of(
      this.beta1,
      this.beta2,
      1 - this.beta1,
      1 - this.beta2,
      1 - acc1[0],
      1 - acc2[0],
      this.epsilon,
      -this.learningRate,
      this.learningRate * this.weightDecay,
    );
    for (const { value, gradient, index } of work) {
      // Like tfjs, m and v exist for every listed variable, with or without a gradient this step.
      const m = moment(ms, index, value, 'm');
      const v = moment(vs, index, value, 'v');
      if (!gradient) continue;
      this.addon.adam(exclusiveFloats(backend, value), gradient, exclusiveFloats(backend, m), exclusiveFloats(backend, v), params);
    }
    exclusiveFloats(backend, accBeta1)[0] = Math.fround(acc1[0] * Math.fround(this.beta1));
    exclusiveFloats(backend, accBeta2)[0] = Math.fround(acc2[0] * Math.fround(this.beta2));
    this.incrementIterations();
    return true;
  }
}

/** m or v of variable `index`, created (zeros, not trainable, named like tfjs's) on first use. */
function moment(list: AdamState['accumulatedFirstMoment'], index: number, value: tf.Variable, suffix: string): tf.Variable {
  let slot = list[index];
  if (slot == null) {
    slot = { originalName: `${value.name}/${suffix}`, variable: tf.tidy(() => tf.variable(tf.zerosLike(value), false)) };
    list[index] = slot;
  }
  return slot.variable;
}

/** (variable, gradient) in the order tfjs's AdamOptimizer indexes its state. */
function pairs(variableGradients: Gradients): Array<{ value: tf.Variable | undefined; gradient: tf.Tensor | undefined }> {
  const variables = tf.engine().registeredVariables;
  if (Array.isArray(variableGradients)) {
    return variableGradients.map((entry) => ({ value: variables[entry.name], gradient: entry.tensor }));
  }
  return Object.keys(variableGradients).map((name) => ({ value: variables[name], gradient: variableGradients[name] }));
}
/** The Float32Array behind a float32 tensor of this backend (undefined when it lives elsewhere). */
function ownFloats(backend: NativeBackend, t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || t.isDisposed || !backend.data.has(t.dataId)) return undefined;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

/**
 * The variable's Float32Array, safe to write in place: unless its buffer is a pooled one held only by
 * this variable (it may be shared with another tensor, or be an array the user passed to tf.tensor),
 * the variable first gets a private pooled copy.
 */
function exclusiveFloats(backend: NativeBackend, variable: tf.Variable): Float32Array {
  if (!backend.isExclusive(variable.dataId)) {
    const source = backend.data.get(variable.dataId).values as Float32Array;
    const copy = backend.allocFloat32(source.length);
    copy.set(source);
    const t = tf.tensor(copy, variable.shape, 'float32');
    variable.assign(t);
    t.dispose();
  }
  return backend.data.get(variable.dataId).values as Float32Array;
}

export function createNativeAdam(addon: NativeAddon, backendName: string, spec: AdamSpec): tf.Optimizer {
  return new NativeAdamOptimizer(addon, backendName, spec);
}
