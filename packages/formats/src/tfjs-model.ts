import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { analyseTopology, TopologyError, type KerasTopology } from '@rankwise/models';
import { TfjsLayersModel } from '@rankwise/models';

/** model.json of a tfjs LayersModel (`model.save()`, or tensorflowjs_converter's tfjs_layers_model). */
export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  weightsManifest?: WeightGroup[];
  [key: string]: unknown;
}

export interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** A model.json that passed every check, before any weight is read. */
export interface TfjsModelFiles {
  /** Absolute path of model.json. */
  file: string;
  json: ModelJson;
  topology: KerasTopology;
  /** Shard files in manifest order, absolute. */
  shards: string[];
}

/** A defect of a model.json or its shards; the message names the file, `pointer` points into model.json. */
export class TfjsModelError extends Error {
  constructor(
    readonly file: string,
    readonly pointer: string,
    /** The message without file and pointer. */
    readonly detail: string,
  ) {
    super(`${file}: ${pointer === '' ? '' : `${pointer}: `}${detail}`);
    this.name = 'TfjsModelError';
  }
}

const CONVERT_HINT =
  'convert the Keras model as a layers model: tensorflowjs_converter --input_format keras --output_format tfjs_layers_model model.h5 out/ (or model.save() from tfjs)';

/** A path to model.json, or a directory holding one. */
export async function resolveModelJson(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new TfjsModelError(path, '', 'not found (a tfjs model.json, or a directory with one)');
  if (!info.isDirectory()) return path;
  const inside = join(path, 'model.json');
  if (!(await stat(inside).catch(() => null))?.isFile()) throw new TfjsModelError(path, '', 'a directory without model.json');
  return inside;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8, string: 0 };

/** Bytes a manifest entry takes in its shard (quantized weights store their quantized dtype). */
function entryBytes(entry: tf.io.WeightsManifestEntry): number {
  const size = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  return size * (BYTES[dtype] ?? 4);
}

/**
 * Reads model.json and checks it without reading a weight: a LayersModel (not a GraphModel), a topology rankwise can
 * run (known layer classes, shapes that fit), a weights manifest that names exactly the weights the topology implies
 * with their shapes, and shards that exist with the bytes the manifest promises.
 */
export async function inspectTfjsModel(path: string): Promise<TfjsModelFiles> {
  const file = resolve(await resolveModelJson(path));
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  } catch (error) {
    throw new TfjsModelError(file, '', `not valid JSON (${(error as Error).message})`);
  }
  const topologyObject = json.modelTopology as Record<string, unknown> | undefined;
  if (json.format === 'graph-model' || (topologyObject && ('node' in topologyObject || 'versions' in topologyObject))) {
    throw new TfjsModelError(
      file,
      json.format === 'graph-model' ? '/format' : '/modelTopology',
      `a GraphModel: inference-only (a frozen graph, no layers to adapt or train); ${CONVERT_HINT}`,
    );
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new TfjsModelError(file, '/format', `found ${JSON.stringify(json.format)}, allowed: "layers-model"`);
  }
  let topology: KerasTopology;
  try {
    topology = analyseTopology(json.modelTopology);
  } catch (error) {
    if (error instanceof TopologyError) throw new TfjsModelError(file, error.pointer, error.message);
    throw error;
  }
  const shards = await checkManifest(file, json, topology);
  return { file, json, topology, shards };
}

async function checkManifest(file: string, json: ModelJson, topology: KerasTopology): Promise<string[]> {
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new TfjsModelError(file, '/weightsManifest', 'missing: a LayersModel lists its weights and shard files');
  const expected = new Map(topology.weights.map((w) => [w.name, w.shape]));
  const seen = new Set<string>();
  const shards: string[] = [];
  for (const [g, group] of manifest.entries()) {
    for (const [i, entry] of group.weights.entries()) {
      const pointer = `/weightsManifest/${g}/weights/${i}`;
      const shape = expected.get(entry.name);
      if (!shape) {
        const layer = entry.name.split('/')[0];
        const known = topology.layers.some((l) => l.name === layer);
        throw new TfjsModelError(
          file,
          `${pointer}/name`,
          `weight "${entry.name}" is not in the topology (${
            known
              ? `layer "${layer}" holds ${
                  topology.weights
                    .filter((w) => w.name.startsWith(`${layer}/`))
                    .map((w) => w.name)
                    .join(', ') || 'no weights'
                }`
              : `no layer "${layer}"`
          })`,
        );
      }
      if (shape.join() !== entry.shape.join()) {
        throw new TfjsModelError(
          file,
          `${pointer}/shape`,
          `weight "${entry.name}": found [${entry.shape.join(', ')}], the topology implies [${shape.join(', ')}]`,
        );
      }
      if (entry.dtype !== 'float32')
        throw new TfjsModelError(file, `${pointer}/dtype`, `weight "${entry.name}": found ${JSON.stringify(entry.dtype)}, allowed: "float32"`);
      seen.add(entry.name);
    }
    const needed = group.weights.reduce((n, e) => n + entryBytes(e), 0);
    let found = 0;
    for (const [p, shardPath] of group.paths.entries()) {
      const shard = resolve(dirname(file), shardPath);
      const info = await stat(shard).catch(() => null);
      if (!info?.isFile()) throw new TfjsModelError(file, `/weightsManifest/${g}/paths/${p}`, `weight shard ${JSON.stringify(shardPath)} not found (${shard})`);
      found += info.size;
      shards.push(shard);
    }
    if (found !== needed) {
      throw new TfjsModelError(
        file,
        `/weightsManifest/${g}/paths`,
        `shards ${group.paths.join(', ')} hold ${found} bytes; the manifest's weights need ${needed} (a ${found < needed ? 'short' : 'long'} or wrong shard)`,
      );
    }
  }
  const missing = topology.weights.filter((w) => !seen.has(w.name));
  if (missing.length > 0)
    throw new TfjsModelError(file, '/weightsManifest', `the topology's weights ${missing.map((w) => `"${w.name}"`).join(', ')} are not in the manifest`);
  return shards;
}

/** The checked model's weights, decoded (dequantized to float32) in manifest order. Caller disposes. */
export async function readTfjsWeights(files: TfjsModelFiles): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  const parts = await Promise.all(files.shards.map((shard) => readFile(shard)));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  const specs = files.json.weightsManifest!.flatMap((g) => g.weights);
  return { specs, data: data.buffer };
}

/** Loads a checked LayersModel from the file system (no tfjs-node) and wraps it as a rankwise model. */
export async function loadTfjsModel(path: string | TfjsModelFiles, seed = 0): Promise<TfjsLayersModel> {
  const files = typeof path === 'string' ? await inspectTfjsModel(path) : path;
  const { specs, data } = await readTfjsWeights(files);
  const layersModel = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: files.json.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: specs, weightData: data }),
  );
  return new TfjsLayersModel(layersModel, files.topology, { source: files.file, weightOrder: specs.map((s) => s.name), modelJson: files.json }, seed);
}
