import * as tf from '@tensorflow/tfjs';
import type { ModelDescription } from './description.js';
import type { Site } from './site.js';

/** A reference to one output of one call of a layer: Keras's `[layerName, nodeIndex, tensorIndex]`. */
export interface NodeRef {
  layer: string;
  node: number;
  tensor: number;
}

/** One layer of a LayersModel's topology, as model.json describes it. */
export interface KerasLayerSpec {
  /** Position in the model's layer list (the site's `layer` index). */
  index: number;
  name: string;
  className: string;
  /** The layer's Keras config (snake_case keys, as stored). */
  config: Record<string, unknown>;
  /** Each call of the layer: the outputs it takes. Sequential models get a chain. */
  calls: NodeRef[][];
  /** JSON pointer of the layer in model.json. */
  pointer: string;
}

/** A weight the topology implies: `<layer>/<name>` with its shape. */
export interface ExpectedWeight {
  name: string;
  shape: number[];
}

export interface KerasTopology {
  kind: 'Sequential' | 'Functional';
  name: string;
  layers: KerasLayerSpec[];
  input: { layer: string; shape: Array<number | null> };
  output: NodeRef;
  /** Output shape of every layer call, `name:node` → shape (batch axis null). */
  shapes: Map<string, Array<number | null>>;
  /** Every weight the layers hold, in layer order. */
  weights: ExpectedWeight[];
}

/** Layer classes that have a LoRA form, and what they become. */
export const ADAPTABLE_CLASSES = ['Dense', 'Conv2D', 'Embedding'] as const;

/** A defect of a topology; `pointer` is into model.json. */
export class TopologyError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
    this.name = 'TopologyError';
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keras's snake_case → tfjs's camelCase, keys and string values, as tfjs's own deserializer does it. */
function toCamel(s: string): string {
  return s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
}

function pythonicToTs(value: unknown, key?: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return key === 'name' ? value : toCamel(value);
  if (Array.isArray(value)) return value.map((v) => pythonicToTs(v, key));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'name' && typeof v === 'string') out[k] = v;
    else out[toCamel(k)] = pythonicToTs(v, toCamel(k));
  }
  return out;
}

/** A tfjs layer object from a Keras config, without weights (used for shape inference). */
export function instantiateLayer(className: string, config: Json): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new Error(`unknown class ${className}`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, pythonicToTs(config) as tf.serialization.ConfigDict) as unknown as tf.layers.Layer;
}

export function isKnownLayerClass(className: string): boolean {
  const known = tf.serialization.SerializationMap.getMap().classNameMap[className] !== undefined;
  return known && !['Sequential', 'Model', 'Functional'].includes(className) && !/^(Adam|SGD|RMSProp|Adagrad|Adadelta|Adamax|Momentum)$/.test(className);
}

function knownLayerClasses(): string[] {
  return Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).filter(isKnownLayerClass);
}

/** The `{class_name, config}` of the model inside model.json's `modelTopology` (tfjs and Keras-converted forms). */
function modelConfig(topology: Json): { className: string; config: unknown; pointer: string } {
  if (isObject(topology.model_config)) {
    const inner = topology.model_config;
    return { className: String(inner.class_name), config: inner.config, pointer: '/modelTopology/model_config' };
  }
  return { className: String(topology.class_name), config: topology.config, pointer: '/modelTopology' };
}

function batchShape(config: Json): Array<number | null> | null {
  const shape = config.batch_input_shape ?? config.batch_shape;
  return Array.isArray(shape) ? (shape as Array<number | null>) : null;
}

function ref(raw: unknown, pointer: string): NodeRef {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string' || !Number.isInteger(raw[1]) || !Number.isInteger(raw[2])) {
    throw new TopologyError(
      pointer,
      `found ${JSON.stringify(raw)?.slice(0, 60)}, allowed: [layerName, nodeIndex, tensorIndex] (Keras 2 format; save Keras 3 models with tf_keras)`,
    );
  }
  return { layer: raw[0], node: raw[1] as number, tensor: raw[2] as number };
}

function layerSpec(raw: unknown, index: number, pointer: string): Omit<KerasLayerSpec, 'calls'> & { raw: Json } {
  if (!isObject(raw) || typeof raw.class_name !== 'string' || !isObject(raw.config)) {
    throw new TopologyError(pointer, 'found no {"class_name", "config"}: not a Keras layer');
  }
  const name = String(raw.config.name ?? raw.name ?? '');
  if (name === '' || name.includes('.'))
    throw new TopologyError(`${pointer}/config/name`, `found ${JSON.stringify(name)}, allowed: a non-empty layer name without "."`);
  const className = raw.class_name;
  if (['Sequential', 'Model', 'Functional'].includes(className)) {
    throw new TopologyError(
      pointer,
      `layer "${name}" is a nested ${className}; rankwise loads flat models (build the nested model's layers into the outer one)`,
    );
  }
  if (!isKnownLayerClass(className)) {
    throw new TopologyError(
      `${pointer}/class_name`,
      `layer "${name}": unknown layer class "${className}" (a custom layer TensorFlow.js does not know); rankwise loads models built from tfjs's own layers, e.g. ${knownLayerClasses().slice(0, 6).join(', ')}, …`,
    );
  }
  return { index, name, className, config: raw.config, pointer, raw };
}

/** Parses model.json's `modelTopology`: layers, calls, input and output; checks what rankwise can run. */
export function parseTopology(topology: unknown): Omit<KerasTopology, 'shapes' | 'weights'> {
  if (!isObject(topology)) throw new TopologyError('/modelTopology', 'missing: a LayersModel model.json has a "modelTopology" object');
  const { className, config, pointer } = modelConfig(topology);
  if (className === 'Sequential') {
    const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    const listPointer = Array.isArray(config) ? `${pointer}/config` : `${pointer}/config/layers`;
    if (!Array.isArray(list) || list.length === 0) throw new TopologyError(listPointer, 'a Sequential model needs a non-empty layer list');
    const specs = list.map((raw, i) => layerSpec(raw, i, `${listPointer}/${i}`));
    const inputLayer = specs[0].className === 'InputLayer' ? specs[0] : null;
    const shape = batchShape(specs[0].config);
    if (!shape) throw new TopologyError(`${specs[0].pointer}/config`, 'the first layer has no batch_input_shape: rankwise needs the input shape');
    const inputName = inputLayer?.name ?? '__input__';
    const body = specs.filter((s) => s !== inputLayer);
    const layers: KerasLayerSpec[] = body.map(({ raw: _raw, ...s }, i) => ({
      ...s,
      index: inputLayer ? s.index - 1 : s.index,
      calls: [[i === 0 ? { layer: inputName, node: 0, tensor: 0 } : { layer: body[i - 1].name, node: 0, tensor: 0 }]],
    }));
    const last = layers[layers.length - 1];
    return {
      kind: 'Sequential',
      name: String((config as Json).name ?? 'sequential'),
      layers,
      input: { layer: inputName, shape },
      output: { layer: last.name, node: 0, tensor: 0 },
    };
  }
  if (className === 'Model' || className === 'Functional') {
    if (!isObject(config) || !Array.isArray(config.layers)) throw new TopologyError(`${pointer}/config/layers`, 'a functional model needs a layer list');
    const layers: KerasLayerSpec[] = config.layers.map((raw, i) => {
      const { raw: json, ...s } = layerSpec(raw, i, `${pointer}/config/layers/${i}`);
      const inbound = json.inbound_nodes;
      if (!Array.isArray(inbound)) throw new TopologyError(`${s.pointer}/inbound_nodes`, 'missing: a functional layer lists its inbound nodes');
      const calls = inbound.map((node, k) => {
        if (!Array.isArray(node))
          throw new TopologyError(
            `${s.pointer}/inbound_nodes/${k}`,
            'found a Keras 3 node; allowed: Keras 2 format [[layer, node, tensor, kwargs], …] (save with tf_keras)',
          );
        return node.map((r, j) => ref(r, `${s.pointer}/inbound_nodes/${k}/${j}`));
      });
      return { ...s, calls };
    });
    const inputs = Array.isArray(config.input_layers) ? config.input_layers : [];
    const outputs = Array.isArray(config.output_layers) ? config.output_layers : [];
    if (inputs.length !== 1 || outputs.length !== 1) {
      throw new TopologyError(
        `${pointer}/config`,
        `the model has ${inputs.length} inputs and ${outputs.length} outputs; rankwise adapts single-input, single-output models`,
      );
    }
    const input = ref(inputs[0], `${pointer}/config/input_layers/0`);
    const inputLayer = layers.find((l) => l.name === input.layer);
    const shape = inputLayer ? batchShape(inputLayer.config) : null;
    if (!inputLayer || !shape)
      throw new TopologyError(`${pointer}/config/input_layers/0`, `input layer "${input.layer}" not found or without batch_input_shape`);
    const body = layers.filter((l) => l.className !== 'InputLayer');
    return {
      kind: 'Functional',
      name: String(config.name ?? 'model'),
      layers: body,
      input: { layer: input.layer, shape },
      output: ref(outputs[0], `${pointer}/config/output_layers/0`),
    };
  }
  throw new TopologyError(`${pointer}/class_name`, `found ${JSON.stringify(className)}, allowed: "Sequential", "Model" or "Functional" (a LayersModel)`);
}

const withoutBatch = (shape: ReadonlyArray<number | null>): Array<number | null> => shape.slice(1);

/** The weights a layer holds for an input shape; by rule for common classes, else by building the layer once. */
function layerWeights(spec: KerasLayerSpec, layer: tf.layers.Layer, inputShape: tf.Shape | tf.Shape[]): ExpectedWeight[] {
  const c = spec.config;
  const shape = (Array.isArray(inputShape[0]) || inputShape[0] === undefined ? (inputShape as tf.Shape[])[0] : inputShape) as tf.Shape;
  const last = shape[shape.length - 1];
  const w = (name: string, s: number[]) => ({ name: `${spec.name}/${name}`, shape: s });
  const useBias = c.use_bias !== false;
  const known = (n: number | null, what: string): number => {
    if (n === null) throw new TopologyError(spec.pointer, `layer "${spec.name}": ${what} is unknown (None) in the input shape [${shape.join(', ')}]`);
    return n;
  };
  switch (spec.className) {
    case 'Dense': {
      const units = Number(c.units);
      return [w('kernel', [known(last, 'the input width'), units]), ...(useBias ? [w('bias', [units])] : [])];
    }
    case 'Conv2D': {
      const [kh, kw] = c.kernel_size as number[];
      const filters = Number(c.filters);
      return [w('kernel', [kh, kw, known(last, 'the channel count'), filters]), ...(useBias ? [w('bias', [filters])] : [])];
    }
    case 'Embedding':
      return [w('embeddings', [Number(c.input_dim), Number(c.output_dim)])];
    case 'BatchNormalization': {
      const axes = Array.isArray(c.axis) ? (c.axis as number[]) : [Number(c.axis ?? -1)];
      const channels = known(shape[axes[0] < 0 ? shape.length + axes[0] : axes[0]], 'the normalised axis');
      return [
        ...(c.scale !== false ? [w('gamma', [channels])] : []),
        ...(c.center !== false ? [w('beta', [channels])] : []),
        w('moving_mean', [channels]),
        w('moving_variance', [channels]),
      ];
    }
    default: {
      layer.build(inputShape);
      const weights = layer.weights.map((v) => w(v.originalName.split('/').pop()!, [...v.shape] as number[]));
      for (const v of layer.weights) v.read().dispose(); // shapes were all we wanted
      return weights;
    }
  }
}

/** Checks a layer rankwise runs in a way the issue cannot be caught later. */
function checkSupported(spec: KerasLayerSpec): void {
  const c = spec.config;
  if (spec.className === 'Conv2D' && c.data_format === 'channels_first') {
    throw new TopologyError(
      `${spec.pointer}/config/data_format`,
      `layer "${spec.name}": found "channels_first", allowed: "channels_last" (TensorFlow.js convolves NHWC)`,
    );
  }
  if (spec.className === 'Embedding' && c.mask_zero === true) {
    throw new TopologyError(`${spec.pointer}/config/mask_zero`, `layer "${spec.name}": found true, allowed: false (rankwise does not propagate Keras masks)`);
  }
}

/**
 * The whole topology with the output shape of every layer call and every weight it implies — computed from the
 * config alone (tfjs layer objects without weights; only classes without a rule here are built once, unseeded).
 */
export function analyseTopology(topology: unknown): KerasTopology {
  const parsed = parseTopology(topology);
  const shapes = new Map<string, Array<number | null>>([[`${parsed.input.layer}:0`, parsed.input.shape]]);
  const weights: ExpectedWeight[] = [];
  const pending = new Set(parsed.layers.map((l) => l.name));
  const names = new Set([parsed.input.layer, ...pending]);
  for (const spec of parsed.layers) {
    checkSupported(spec);
    for (const [k, call] of spec.calls.entries()) {
      for (const r of call)
        if (!names.has(r.layer))
          throw new TopologyError(`${spec.pointer}/inbound_nodes/${k}`, `layer "${spec.name}" takes the output of "${r.layer}", which is not in the model`);
    }
  }
  // Calls in dependency order (Keras lists layers topologically, but a shared layer's later calls may come later).
  let progress = true;
  while (pending.size > 0 && progress) {
    progress = false;
    for (const spec of parsed.layers) {
      if (!pending.has(spec.name)) continue;
      if (!spec.calls.every((call) => call.every((r) => shapes.has(`${r.layer}:${r.node}`)))) continue;
      let layer: tf.layers.Layer;
      try {
        layer = instantiateLayer(spec.className, spec.config);
      } catch (error) {
        throw new TopologyError(`${spec.pointer}/config`, `layer "${spec.name}" (${spec.className}): ${(error as Error).message}`);
      }
      spec.calls.forEach((call, k) => {
        const inputs = call.map((r) => shapes.get(`${r.layer}:${r.node}`)!) as tf.Shape[];
        const inputShape = inputs.length === 1 ? inputs[0] : inputs;
        try {
          const out = layer.computeOutputShape(inputShape) as tf.Shape;
          if (k === 0) weights.push(...layerWeights(spec, layer, inputShape));
          shapes.set(`${spec.name}:${k}`, (Array.isArray(out[0]) ? (out as unknown as tf.Shape[])[0] : out) as Array<number | null>);
        } catch (error) {
          if (error instanceof TopologyError) throw error;
          throw new TopologyError(
            `${spec.pointer}/config`,
            `layer "${spec.name}" (${spec.className}) does not accept input [${inputs.map((s) => s.join(', ')).join('] [')}]: ${(error as Error).message}`,
          );
        }
      });
      pending.delete(spec.name);
      progress = true;
    }
  }
  if (pending.size > 0) throw new TopologyError('/modelTopology', `layers ${[...pending].join(', ')} depend on a cycle or on each other's missing outputs`);
  return { ...parsed, shapes, weights };
}

const siteRole = (className: string): string => className.toLowerCase();

/** The sites of a topology: Dense [in, units], Conv2D [in channels, filters], Embedding [input_dim, output_dim]. */
export function topologySites(topology: KerasTopology): Site[] {
  const sites: Site[] = [];
  for (const spec of topology.layers) {
    if (!(ADAPTABLE_CLASSES as readonly string[]).includes(spec.className)) continue;
    const kernel = topology.weights.find((w) => w.name === `${spec.name}/${spec.className === 'Embedding' ? 'embeddings' : 'kernel'}`)!;
    const [inFeatures, outFeatures] = spec.className === 'Conv2D' ? kernel.shape.slice(2) : kernel.shape;
    sites.push({ path: spec.name, inFeatures, outFeatures, layer: spec.index, role: siteRole(spec.className), adapted: false });
  }
  return sites;
}

/** What a pipeline sees of a LayersModel before loading it: a classifier whose input is the product of its shape. */
export function describeTopology(topology: KerasTopology, source: string): ModelDescription {
  const inputDims = withoutBatch(topology.input.shape);
  const outputShape = topology.shapes.get(`${topology.output.layer}:${topology.output.node}`) ?? [];
  const inputFeatures = inputDims.every((d): d is number => d !== null) ? inputDims.reduce((a, b) => a * b, 1) : undefined;
  return {
    architecture: 'tfjs-layers',
    task: 'classification',
    config: { source },
    sites: topologySites(topology),
    inputFeatures,
    ...(inputFeatures !== undefined ? { inputShape: inputDims as number[] } : {}),
    classes: outputShape[outputShape.length - 1] ?? undefined,
    layers: topology.layers.map((l) => ({ name: l.name, className: l.className, index: l.index })),
  };
}
