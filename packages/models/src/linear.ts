import * as tf from '@tensorflow/tfjs';
import { quantizeWeight } from './quant/quantize.js';
import type { QuantizedWeight, QuantType } from './quant/types.js';
import type { Rng } from './random.js';
import { kaimingUniform, uniform, uniformValues } from './init.js';
import { Module } from './module.js';
import { quantizedMatMul } from './quantized-matmul.js';
import type { Site, SiteModule } from './site.js';

export interface LinearOptions {
  bias?: boolean;
  role?: string;
  layer?: number | null;
  /**
   * How the weights start: 'random' (default: PyTorch's nn.Linear init, needs an Rng), 'zeros' (no random draw: weights
   * about to be loaded from a file), or existing tensors (W [in, out], bias [out] or null; ownership passes to the Linear).
   */
  init?: 'random' | 'zeros' | { weight: tf.Tensor; bias: tf.Tensor | null };
}

/** True inside tf.grad / tf.variableGrads, where ops are being recorded for backpropagation. */
export function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

const addBias = (y: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor => (bias ? y.add(bias) : y);

/** Flattens leading axes so a 2-D matmul does the work: [..., C] → [N, C]. */
export function flattenLeading(x: tf.Tensor): tf.Tensor2D {
  const c = x.shape[x.shape.length - 1];
  return x.reshape([-1, c]) as tf.Tensor2D;
}

/** Restores the leading axes of `like`: [N, out] → [..., out]. */
export function unflattenLeading(y: tf.Tensor, like: tf.Tensor): tf.Tensor {
  if (like.rank === 2) return y;
  return y.reshape([...like.shape.slice(0, -1), y.shape[y.shape.length - 1]]);
}

/** Set by `buildQuantized` while a model is built: the Linears it selects are built with a quantized weight. */
let building: { type: QuantType; select: (linear: { role: string; layer: number | null }) => boolean } | null = null;

/**
 * Runs `build` (a model constructor) so that every Linear `select` picks gets its weight quantized as it is built:
 * random inits are drawn into a plain array and quantized at once, 'zeros' becomes quantized zeros (for a loader to
 * replace with `setQuantized`); no float32 tensor of those weights is ever made.
 */
export function buildQuantized<T>(type: QuantType, select: (linear: { role: string; layer: number | null }) => boolean, build: () => T): T {
  const previous = building;
  building = { type, select };
  try {
    return build();
  } finally {
    building = previous;
  }
}

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transposeValues(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/**
 * y = x·W + b with a tfjs-layout kernel W: [in, out]. Init as PyTorch's nn.Linear. A frozen W can be stored quantized
 * instead (`quantize`, `setQuantized`: NF4, int8, bf16 in nn.Linear layout [out, in]); it is then no parameter, takes
 * no gradient, and `weight` throws.
 */
export class Linear extends Module implements SiteModule {
  readonly role: string;
  readonly layer: number | null;
  private stored: QuantizedWeight | null = null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng | null,
    options: LinearOptions = {},
  ) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1 || !Number.isInteger(outFeatures) || outFeatures < 1) {
      throw new Error(`Linear needs positive integer sizes, got [${inFeatures}, ${outFeatures}]`);
    }
    this.role = options.role ?? 'hidden';
    this.layer = options.layer ?? null;
    const { init = 'random' } = options;
    if (typeof init === 'object') {
      if (init.weight.shape.join() !== `${inFeatures},${outFeatures}`) {
        throw new Error(`Linear weight must be [${inFeatures}, ${outFeatures}], got [${init.weight.shape.join(', ')}]`);
      }
      this.addParameter('weight', init.weight);
      if (init.bias) this.addParameter('bias', init.bias);
      return;
    }
    const quantized = building?.select({ role: this.role, layer: this.layer }) ? building.type : null;
    if (quantized !== null) {
      // [in, out] as the random init draws it, quantized in nn.Linear layout [out, in]; or zeros.
      if (init === 'zeros') {
        this.stored = quantizeWeight(quantized, new Float32Array(inFeatures * outFeatures), outFeatures, inFeatures);
        if (options.bias ?? true) this.addParameter('bias', tf.zeros([outFeatures]));
        return;
      }
      if (!rng) throw new Error("Linear needs an Rng, init 'zeros' or initial weights");
      const values = transposeValues(uniformValues([inFeatures, outFeatures], 1 / Math.sqrt(inFeatures), rng), inFeatures, outFeatures);
      this.stored = quantizeWeight(quantized, values, outFeatures, inFeatures);
      if (options.bias ?? true) this.addParameter('bias', uniform([outFeatures], 1 / Math.sqrt(inFeatures), rng));
      return;
    }
    if (init === 'zeros') {
      this.addParameter('weight', tf.zeros([inFeatures, outFeatures]));
      if (options.bias ?? true) this.addParameter('bias', tf.zeros([outFeatures]));
      return;
    }
    if (!rng) throw new Error("Linear needs an Rng, init 'zeros' or initial weights");
    this.addParameter('weight', kaimingUniform([inFeatures, outFeatures], inFeatures, rng));
    if (options.bias ?? true) this.addParameter('bias', uniform([outFeatures], 1 / Math.sqrt(inFeatures), rng));
  }

  get weight(): tf.Variable {
    if (this.stored) {
      throw new Error(
        `this Linear [${this.inFeatures}, ${this.outFeatures}] (${this.role}${this.layer === null ? '' : `, layer ${this.layer}`}) stores its frozen weight quantized (${this.stored.type}): it cannot be read, merged into or trained; load the model without "quantize" for that`,
      );
    }
    return this.param('weight');
  }

  /** The quantized weight, or null when W is a float32 parameter. */
  get quantized(): QuantizedWeight | null {
    return this.stored;
  }

  /** Replaces a frozen W by its quantized form ([out, in]); the float32 variable is disposed. */
  async quantize(type: QuantType): Promise<void> {
    if (this.stored) throw new Error(`this Linear is already quantized (${this.stored.type})`);
    const weight = this.param('weight');
    if (weight.trainable)
      throw new Error(
        `cannot quantize a trainable weight [${this.inFeatures}, ${this.outFeatures}] (${this.role}): only frozen base weights are stored quantized (freeze first)`,
      );
    const values = (await weight.data()) as Float32Array; // [in, out]
    this.setQuantized(quantizeWeight(type, transposeValues(values, this.inFeatures, this.outFeatures), this.outFeatures, this.inFeatures));
  }

  /** Sets W from an already quantized weight [out, in] (disposing the float32 W, if any). */
  setQuantized(weight: QuantizedWeight): void {
    if (weight.rows !== this.outFeatures || weight.cols !== this.inFeatures) {
      throw new Error(`quantized weight is [${weight.rows}, ${weight.cols}], this Linear needs [${this.outFeatures}, ${this.inFeatures}] (out, in)`);
    }
    if (!this.stored) this.removeParameter('weight').dispose();
    this.stored = weight;
  }

  get bias(): tf.Variable | null {
    return this.optionalParam('bias');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x2 = flattenLeading(x); // [N, in]
      const bias = this.bias ?? undefined;
      if (this.stored) return unflattenLeading(addBias(quantizedMatMul(x2, this.stored), bias), x); // [N, in]·[in, out] → [N, out]
      // A frozen W under a gradient tape: plain matMul (+ add), whose gradients are computed only where needed,
      // so no dW = xᵀ·dy is made for a weight nobody trains; the fused op's custom gradient computes all of them.
      const frozen = !this.weight.trainable && recordingGradients();
      const y = frozen
        ? addBias(tf.matMul(x2, this.weight), bias) // [N, in]·[in, out] → [N, out]
        : tf.fused.matMul({ a: x2, b: this.weight, bias }); // [N, in]·[in, out] → [N, out]
      return unflattenLeading(y, x);
    });
  }

  describeSite(path: string): Site {
    return { path, inFeatures: this.inFeatures, outFeatures: this.outFeatures, layer: this.layer, role: this.role, adapted: false };
  }
}
