import * as tf from '@tensorflow/tfjs';
import { Rng } from './random.js';
import { Conv2d } from './conv2d.js';
import { seededDropout } from './dropout.js';
import { EmbeddingSite } from './embedding-site.js';
import type { KerasLayerSpec, KerasTopology } from './keras-topology.js';
import { Linear } from './linear.js';
import { Model, type JsonObject } from './model.js';
import { Module } from './module.js';

type TfLayer = tf.layers.Layer;

/** Where a wrapped model came from and how its weights were ordered (saving writes the same names, same order). */
export interface LayersModelOrigin {
  /** model.json it was read from. */
  source: string;
  /** Weight names in the original manifest order (`<layer>/<weight>`). */
  weightOrder: string[];
  /** The original model.json (its topology is written back unchanged). */
  modelJson: Record<string, unknown>;
}

/** Layers with randomness that rankwise runs in inference mode (identity); Dropout itself is seeded and active in training. */
const INFERENCE_ONLY_NOISE = ['GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D'];

/** A tfjs layer run as it is (frozen behaviour: BatchNormalization with its moving statistics, pooling, …). */
export class FrozenLayer extends Module {
  constructor(
    readonly layer: TfLayer,
    readonly className: string,
  ) {
    super();
    // Trainable weights (e.g. BatchNorm's gamma, beta) are parameters, shared with the tfjs layer, so freeze /
    // unfreeze and parameter counts see them; non-trainable ones (moving statistics) are never trained.
    for (const w of layer.trainableWeights) this.adoptParameter(w.originalName.split('/').pop()!, w.read() as tf.Variable);
  }

  /** The layer's statistics and other non-trainable state, e.g. moving_mean / moving_variance. */
  buffers(): Array<[string, tf.Variable]> {
    return this.layer.nonTrainableWeights.map((w) => [w.originalName.split('/').pop()!, w.read() as tf.Variable]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.apply([x]);
  }

  apply(inputs: tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor);
  }
}

/** An activation by its Keras name, as the tfjs layer would apply it. */
function activation(name: unknown): ((x: tf.Tensor) => tf.Tensor) | null {
  if (name === undefined || name === null || name === 'linear') return null;
  const layer = tf.layers.activation({ activation: name as 'relu' });
  return (x) => layer.apply(x) as tf.Tensor;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

/**
 * A tfjs LayersModel (Sequential or functional) as a rankwise model. Dense, Conv2D and Embedding layers become sites
 * (Linear [in, out], Conv2d [kh, kw, in, out], EmbeddingSite [n, d]) named by their Keras layer names, with their
 * layer index and a role by class; every other layer runs as tfjs runs it, frozen (BatchNormalization in inference
 * mode). Dropout layers drop (seeded) in training. The graph is executed call by call from the topology.
 *
 * A model whose output is a softmax (a Dense/Conv2D with activation softmax, or a final Softmax / Activation layer)
 * returns its logits from `forward` (losses take logits); `predict` applies it, like the tfjs model.
 */
export class TfjsLayersModel extends Model {
  readonly architecture = 'tfjs-layers';
  readonly task = 'classification';
  readonly config: JsonObject;
  /** True when the original output is probabilities (softmax head); `forward` gives the logits before it. */
  readonly softmaxOutput: boolean;
  private readonly activations = new Map<string, ((x: tf.Tensor) => tf.Tensor) | null>();
  private readonly dropoutRates = new Map<string, number>();
  private readonly dropoutRng: Rng;
  private readonly exampleShape: number[];

  override get inputShape(): readonly number[] | undefined {
    return this.exampleShape.includes(-1) ? undefined : this.exampleShape;
  }

  constructor(
    layersModel: tf.LayersModel,
    readonly topology: KerasTopology,
    readonly origin: LayersModelOrigin,
    seed: number,
  ) {
    super();
    this.config = { source: origin.source };
    this.dropoutRng = new Rng(seed).fork('dropout');
    this.exampleShape = topology.input.shape.slice(1).map((d) => d ?? -1);
    const outputSpec = topology.layers.find((l) => l.name === topology.output.layer)!;
    this.softmaxOutput = outputSpec.config.activation === 'softmax' || outputSpec.className === 'Softmax';
    for (const spec of topology.layers) {
      const layer = layersModel.getLayer(spec.name);
      this.addModule(spec.name, this.wrapLayer(spec, layer));
    }
  }

  private wrapLayer(spec: KerasLayerSpec, layer: TfLayer): Module {
    const c = spec.config;
    const role = spec.className.toLowerCase();
    // Site weights move into rankwise variables (the tfjs layer's are disposed; it is never called again).
    const weights = layer.weights.map((w) => w.read());
    const bias = c.use_bias === false ? null : (weights[1] ?? null);
    const head = spec.name === this.topology.output.layer && this.softmaxOutput;
    switch (spec.className) {
      case 'Dense':
        this.activations.set(spec.name, head ? null : activation(c.activation));
        return new Linear(weights[0].shape[0] as number, weights[0].shape[1] as number, null, { role, layer: spec.index, init: { weight: weights[0], bias } });
      case 'Conv2D':
        this.activations.set(spec.name, head ? null : activation(c.activation));
        return new Conv2d(weights[0], bias, {
          role,
          layer: spec.index,
          kernelSize: pair(c.kernel_size),
          strides: pair(c.strides ?? 1),
          padding: c.padding === 'same' ? 'same' : 'valid',
          dilation: pair(c.dilation_rate ?? 1),
        });
      case 'Embedding':
        return new EmbeddingSite(weights[0], { role, layer: spec.index });
      default:
        if (spec.className === 'Dropout') this.dropoutRates.set(spec.name, Number(c.rate ?? 0));
        return new FrozenLayer(layer, spec.className);
    }
  }

  /** Keras-layer buffers (BatchNorm statistics) by path, e.g. `batch_normalization.moving_mean`. */
  namedBuffers(): Array<[string, tf.Variable]> {
    return this.namedChildren().flatMap(([name, m]) =>
      m instanceof FrozenLayer ? m.buffers().map(([b, v]) => [`${name}.${b}`, v] as [string, tf.Variable]) : [],
    );
  }

  /** x: the model input, or rows of its flattened size ([B, 784] for a [28, 28, 1] input) → logits. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const input = x.rank === this.exampleShape.length + 1 ? x : x.reshape([-1, ...this.exampleShape]);
      const outputs = new Map<string, tf.Tensor>([[`${this.topology.input.layer}:0`, input]]);
      const done = new Set<string>();
      const total = this.topology.layers.reduce((n, l) => n + l.calls.length, 0);
      while (done.size < total) {
        const before = done.size;
        for (const spec of this.topology.layers) {
          spec.calls.forEach((call, k) => {
            const key = `${spec.name}:${k}`;
            if (done.has(key) || !call.every((r) => outputs.has(`${r.layer}:${r.node}`))) return;
            const inputs = call.map((r) => outputs.get(`${r.layer}:${r.node}`)!);
            outputs.set(key, this.callLayer(spec, inputs));
            done.add(key);
          });
        }
        if (done.size === before) throw new Error(`${this.origin.source}: the layer graph cannot be executed (unreachable layers)`);
      }
      return outputs.get(`${this.topology.output.layer}:${this.topology.output.node}`)!;
    });
  }

  private callLayer(spec: KerasLayerSpec, inputs: tf.Tensor[]): tf.Tensor {
    const module = this.child(spec.name);
    if (module instanceof FrozenLayer) {
      const isHead = spec.name === this.topology.output.layer && this.softmaxOutput;
      if (isHead || INFERENCE_ONLY_NOISE.includes(spec.className)) return inputs[0];
      const rate = this.dropoutRates.get(spec.name);
      if (rate !== undefined) return seededDropout(inputs[0], rate, this.dropoutRng, this.training);
      return module.apply(inputs);
    }
    const y = module.forward(inputs[0]);
    const act = this.activations.get(spec.name);
    return act ? act(y) : y;
  }

  /** What the tfjs model outputs (probabilities for a softmax head). */
  predict(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => (this.softmaxOutput ? tf.softmax(this.forward(x)) : this.forward(x)));
  }

  override dispose(): void {
    for (const [, buffer] of this.namedBuffers()) buffer.dispose();
    super.dispose();
  }
}
