import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LoraLayer } from '@rankwise/lora';
import { Conv2d } from '@rankwise/models';
import { EmbeddingSite } from '@rankwise/models';
import { FrozenLayer, type TfjsLayersModel } from '@rankwise/models';
import { Linear } from '@rankwise/models';
import type { Module } from '@rankwise/models';

/** tfjs's own shard size (model.save() splits weights into 4 MB files). */
const SHARD_BYTES = 4 * 1024 * 1024;

/** The tensor stored under `<layer>/<weight>`: adapters folded in (W + scaling·A·B), the model itself unchanged. */
function weightTensor(model: TfjsLayersModel, name: string, owned: tf.Tensor[]): tf.Tensor {
  const cut = name.indexOf('/');
  const layerName = name.slice(0, cut);
  const local = name.slice(cut + 1);
  let module: Module = model.getSubmodule(layerName);
  let delta: LoraLayer | null = null;
  if (module instanceof LoraLayer) {
    delta = module.merged ? null : module;
    module = module.base;
  }
  if (module instanceof Linear || module instanceof Conv2d || module instanceof EmbeddingSite) {
    if (local === 'bias' && (module instanceof Linear || module instanceof Conv2d) && module.bias) return module.bias;
    if (local === 'kernel' || local === 'embeddings') {
      if (!delta) return module.weight;
      const lora = delta;
      const merged = tf.tidy(() => module.weight.add(lora.delta()));
      owned.push(merged);
      return merged;
    }
  }
  if (module instanceof FrozenLayer) {
    const found = [...module.namedParameters(), ...module.buffers()].find(([n]) => n === local);
    if (found) return found[1];
  }
  throw new Error(`${model.origin.source}: weight "${name}" has no tensor in the model`);
}

/**
 * Writes a LayersModel folder that `tf.loadLayersModel` loads unchanged (Node or browser): model.json with the original
 * topology and a new weights manifest (same names, same order), and `group1-shardNofM.bin` files of at most 4 MB.
 * LoRA layers are written merged; the model in memory is not changed.
 */
export async function saveTfjsModel(model: TfjsLayersModel, dir: string): Promise<{ files: string[]; bytes: number }> {
  const owned: tf.Tensor[] = [];
  try {
    const named = model.origin.weightOrder.map((name) => ({ name, tensor: weightTensor(model, name, owned) }));
    const { data, specs } = await tf.io.encodeWeights(named);
    const buffer = new Uint8Array(data as ArrayBuffer);
    const count = Math.max(1, Math.ceil(buffer.byteLength / SHARD_BYTES));
    const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
    await mkdir(dir, { recursive: true });
    for (const [i, path] of paths.entries()) await writeFile(join(dir, path), buffer.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
    const json = {
      ...model.origin.modelJson,
      format: 'layers-model',
      convertedBy: 'rankwise (LoRA merged into the weights)',
      weightsManifest: [{ paths, weights: specs }],
    };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    return { files: ['model.json', ...paths], bytes: buffer.byteLength };
  } finally {
    tf.dispose(owned);
  }
}

/**
 * A tfjs IOHandler that writes what `model.save(handler)` gives it as a LayersModel folder (model.json +
 * group1-shard1of1.bin): `file://` saving without tfjs-node.
 */
export function tfjsFileSaver(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData ? new Uint8Array(tf.io.concatenateArrayBuffers([artifacts.weightData].flat())) : new Uint8Array();
    const path = 'group1-shard1of1.bin';
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, path), weights);
    const json = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [path], weights: artifacts.weightSpecs ?? [] }],
    };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
  });
}
