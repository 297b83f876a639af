import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module.js';
import { listSites, type Site } from '../nn/site.js';
import { injectLora, loraLayers } from '../lora/inject.js';
import { loraScaling, type LoraKind, type LoraLayer } from '../lora/lora-layer.js';
import { LoraConv2d } from '../lora/lora-conv2d.js';
import { buildPeftConfig, parsePeftConfig, peftPatternValue, peftSiteSettings, peftTargetSites, type PeftLoraConfig } from './peft-config.js';
import { fromPeftLayout, peftTensors } from './peft-layout.js';
import { SafetensorsReader } from './safetensors-stream.js';
import { writeSafetensorsFile } from './tensor-file.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
/** PEFT prefixes module names with the wrapper path; keys read `base_model.model.<site>.lora_A.weight`. */
export const PEFT_PREFIX = 'base_model.model.';

/** One adapted site with its factors in rankwise layout: A [in, r], B [r, out] (conv2d: A [kh·kw·in, r]). */
export interface AdapterSite {
  path: string;
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  /** Default 'linear'; decides PEFT's tensor names and layouts (io/peft-layout.ts). */
  kind?: LoraKind;
  /** conv2d: [kh, kw]. */
  kernelSize?: [number, number];
  a: tf.Tensor;
  b: tf.Tensor;
}

/** Adapter weights detached from a model (clones), e.g. kept after merge so save can still write them. */
export interface AdapterSnapshot {
  sites: AdapterSite[];
  dispose(): void;
}

export function snapshotAdapter(model: Module): AdapterSnapshot {
  const sites = loraLayers(model).map(([path, l]) => siteOf(path, l, l.loraA.clone(), l.loraB.clone()));
  return { sites, dispose: () => sites.forEach((s) => tf.dispose([s.a, s.b])) };
}

function siteOf(path: string, layer: LoraLayer, a: tf.Tensor, b: tf.Tensor): AdapterSite {
  const kernelSize = layer instanceof LoraConv2d ? layer.base.geometry.kernelSize : undefined;
  return { path, r: layer.r, alpha: layer.alpha, rslora: layer.rslora, dropout: layer.dropout, kind: layer.kind, kernelSize, a, b };
}

export interface AdapterSaveOptions {
  /** Where the base model came from (PEFT's base_model_name_or_path): a Hub id or a relative path; null when unknown. */
  baseModel?: string | null;
  /** PEFT's task_type, e.g. "CAUSAL_LM" for language models. */
  taskType?: string | null;
}

/** The safetensors metadata key holding rankwise's own per-site settings (PEFT ignores metadata). */
export const RANKWISE_METADATA = 'rankwise';

interface RankwiseSiteMetadata {
  path: string;
  alpha: number;
  rslora: boolean;
  dropout: number;
}

/**
 * Writes PEFT's layout: adapter_config.json with PEFT's keys only (see buildPeftConfig: mixed rsLoRA is folded into
 * alpha_pattern so PEFT reproduces every site's scaling) and adapter_model.safetensors with lora_A.weight [r, in] = Aᵀ
 * and lora_B.weight [out, r] = Bᵀ (conv2d and embedding sites in PEFT's layouts: io/peft-layout.ts). rankwise's own per-site settings (alpha as given, rsLoRA, dropout) travel in the
 * weights' `__metadata__`, which PEFT ignores; on reading, they are used only where they agree with PEFT's fields.
 */
export async function saveAdapterSites(sites: readonly AdapterSite[], dir: string, options: AdapterSaveOptions = {}): Promise<void> {
  if (sites.length === 0) throw new Error('no LoRA adapters to save (no inject stage ran, or they were merged without a snapshot)');
  const config = buildPeftConfig(sites, options);
  const own: RankwiseSiteMetadata[] = sites.map((s) => ({ path: s.path, alpha: s.alpha, rslora: s.rslora, dropout: s.dropout }));
  await mkdir(dir, { recursive: true });
  const tensors = tf.tidy(() => sites.flatMap((s) => peftTensors(s, PEFT_PREFIX)));
  try {
    const metadata = { format: 'pt', producer: 'rankwise', [RANKWISE_METADATA]: JSON.stringify({ version: 2, sites: own }) };
    await writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), tensors, metadata);
  } finally {
    tf.dispose(tensors.map((t) => t.tensor));
  }
  await writeFile(join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}

/** Saves the adapters currently in `model`. */
export async function saveAdapter(model: Module, dir: string, options: AdapterSaveOptions = {}): Promise<void> {
  const sites = loraLayers(model).map(([path, l]) => siteOf(path, l, l.loraA, l.loraB));
  await saveAdapterSites(sites, dir, options);
}

/** Reads and checks adapter_config.json (not the weights) with PEFT's rules. */
export async function readAdapterConfig(dir: string): Promise<{ config: PeftLoraConfig; file: string }> {
  const file = join(dir, ADAPTER_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${dir}: not an adapter directory (${ADAPTER_CONFIG} missing)` : `${file}: not valid JSON (${(error as Error).message})`);
  }
  return { config: parsePeftConfig(raw, file), file };
}

/**
 * `[base_model.model.]<site>.lora_A|B[.default].weight` or `<site>.lora_embedding_A|B[.default]` → site path, A or B
 * (PEFT writes `.default` in some versions).
 */
const LORA_WEIGHT = /^(?:base_model\.model\.)?(.+)\.lora_(?:([AB])(?:\.default)?\.weight|embedding_([AB])(?:\.default)?)$/;

/** One site of a PEFT-layout adapter as stored: its settings and its factors in PEFT layout. */
export interface StoredAdapterSite {
  path: string;
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  inFeatures: number;
  outFeatures: number;
  /** 'linear' ([r, in] / [out, r]), 'conv2d' ([r, in, kh, kw] / [out, r, 1, 1]) or 'embedding' (lora_embedding_A/B). */
  kind: LoraKind;
  kernelSize?: [number, number];
  /** lora_A.weight = Aᵀ, [r, in] row-major (conv2d: [r, in, kh, kw]). */
  loraA: Float32Array;
  /** lora_B.weight = Bᵀ, [out, r] row-major. */
  loraB: Float32Array;
}

/** An adapter site planned from the config and the weights' header alone (no tensor data read). */
export type PlannedAdapterSite = Omit<StoredAdapterSite, 'loraA' | 'loraB'> & { aName: string; bName: string };

/** rankwise's per-site settings from the weights' metadata, when present and well-formed. */
function rankwiseSites(metadata: Record<string, string>): Map<string, RankwiseSiteMetadata> {
  try {
    const parsed = JSON.parse(metadata[RANKWISE_METADATA] ?? '{}') as { sites?: RankwiseSiteMetadata[] };
    return new Map((parsed.sites ?? []).filter((s) => typeof s.path === 'string').map((s) => [s.path, s]));
  } catch {
    return new Map();
  }
}

/**
 * Plans loading a PEFT-layout adapter from adapter_config.json and the weight file's header: sites from the tensor
 * names (`[base_model.model.]<site>.lora_A|B[.default].weight`, `<site>.lora_embedding_A|B`, in the file's order of the
 * lora_A tensors; conv2d factors by their 4-D shapes), ranks from
 * the shapes (checked against r / rank_pattern), alpha from lora_alpha / alpha_pattern, scaling with use_rslora — all
 * PEFT's rules. With `modelSites` (listSites of the model it is meant for) the config's target_modules must select
 * exactly the sites that have weights, and each must exist, be unadapted and match its in/out features.
 */
export async function planAdapter(dir: string, modelSites?: readonly Site[], modelType?: string): Promise<PlannedAdapterSite[]> {
  const { config, file: configFile } = await readAdapterConfig(dir);
  const weightsFile = join(dir, ADAPTER_WEIGHTS);
  const reader = await SafetensorsReader.open(weightsFile);
  await reader.close();
  const entries = reader.entries;
  const own = rankwiseSites(reader.header.metadata);
  const sites = modelSites ? new Map(modelSites.map((s) => [s.path, s])) : null;
  // Each tensor name parsed once: site path → its lora_A / lora_B tensor names, in file order.
  const aNames = new Map<string, string>();
  const bNames = new Map<string, string>();
  for (const name of entries.keys()) {
    const match = LORA_WEIGHT.exec(name);
    if (!match) throw new Error(`${weightsFile}: tensor "${name}": not a LoRA weight (expected <site>.lora_A.weight or <site>.lora_B.weight)`);
    const [, path, linearAB, embeddingAB] = match;
    const ab = linearAB ?? embeddingAB;
    const names = ab === 'A' ? aNames : bNames;
    const other = names.get(path);
    if (other !== undefined) throw new Error(`${weightsFile}: tensors "${other}" and "${name}" are both lora_${ab} of site "${path}"`);
    names.set(path, name);
  }
  const out = [...aNames].map(([path, aName]): PlannedAdapterSite => {
    const site = sites?.get(path);
    if (sites && !site) throw new Error(`${weightsFile}: site "${path}" is not in the model; available sites: ${[...sites.keys()].join(', ')}`);
    if (site?.adapted) throw new Error(`${weightsFile}: site "${path}" already has a LoRA adapter`);
    const bName = bNames.get(path);
    const a = entries.get(aName)!;
    const b = bName === undefined ? undefined : entries.get(bName);
    if (!b || bName === undefined) throw new Error(`${weightsFile}: site "${path}" has lora_A but no lora_B`);
    const r = a.shape[0];
    const expected = (shape: string) => (site ? `the model expects ${shape}` : `expected ${shape}`);
    // PEFT's conv factors: lora_A [r, in, kh, kw], lora_B [out, r, 1, 1]; embeddings are named lora_embedding_A/B.
    const kind: LoraKind = aName.includes('lora_embedding_') ? 'embedding' : a.shape.length === 4 ? 'conv2d' : 'linear';
    const kernel = kind === 'conv2d' ? ', kh, kw' : '';
    if (a.shape.length !== (kind === 'conv2d' ? 4 : 2) || (site && a.shape[1] !== site.inFeatures)) {
      throw new Error(`${weightsFile}: tensor "${aName}": shape [${a.shape.join(', ')}], ${expected(`[r, ${site ? site.inFeatures : 'in'}${kernel}]`)}`);
    }
    const bOk = kind === 'conv2d' ? b.shape.length === 4 && b.shape[2] === 1 && b.shape[3] === 1 : b.shape.length === 2;
    if (!bOk || (site && b.shape[0] !== site.outFeatures) || b.shape[1] !== r) {
      throw new Error(`${weightsFile}: tensor "${bName}": shape [${b.shape.join(', ')}], ${expected(`[${site ? site.outFeatures : 'out'}, ${r}${kind === 'conv2d' ? ', 1, 1' : ''}]`)}`);
    }
    const peft = peftSiteSettings(config, path);
    if (peft.r !== r) {
      const how = peftPatternValue(config.rankPattern, path) === undefined ? 'r' : 'rank_pattern';
      throw new Error(`${configFile}: site "${path}" has rank ${r} in the weights but ${peft.r} in the config (by ${how})`);
    }
    // rankwise's own settings only where they give PEFT's scaling (PEFT's fields win when someone edited them).
    const mine = own.get(path);
    const agrees = mine !== undefined && Math.abs(loraScaling({ r, ...mine }) - loraScaling(peft)) <= 1e-9 * loraScaling(peft);
    const { alpha, rslora } = agrees ? mine : peft;
    const dropout = agrees ? mine.dropout : config.loraDropout;
    const kernelSize: [number, number] | undefined = kind === 'conv2d' ? [a.shape[2], a.shape[3]] : undefined;
    return { path, r, alpha, rslora, dropout, kind, kernelSize, inFeatures: a.shape[1], outFeatures: b.shape[0], aName, bName };
  });
  for (const [path, name] of bNames) if (!aNames.has(path)) throw new Error(`${weightsFile}: tensor "${name}" has no matching lora_A`);
  if (out.length === 0) throw new Error(`${weightsFile}: holds no LoRA weights`);
  if (modelSites) {
    let targeted: Site[];
    try {
      targeted = peftTargetSites(config, modelSites, modelType);
    } catch (error) {
      throw new Error(`${configFile}: /target_modules: ${(error as Error).message}`);
    }
    const shown = JSON.stringify(config.targetModules);
    if (targeted.length === 0) {
      throw new Error(`${configFile}: /target_modules: ${shown} selects none of the model's sites (PEFT's rules: a list entry matches a module name exactly or as its last ".name" parts, a string must match the whole name); sites: ${modelSites.map((s) => s.path).join(', ')}`);
    }
    const chosen = new Set(targeted.map((s) => s.path));
    for (const path of aNames.keys()) {
      if (sites!.has(path) && !chosen.has(path)) throw new Error(`${weightsFile}: site "${path}" has weights, but ${configFile}'s target_modules ${shown} does not select it (PEFT would not load them)`);
    }
    for (const site of targeted) {
      if (!aNames.has(site.path)) throw new Error(`${weightsFile}: target_modules ${shown} selects "${site.path}", which has no lora_A / lora_B weights in the file`);
    }
  }
  return out;
}

/** `planAdapter`, then the factors themselves (read tensor by tensor). */
export async function readAdapter(dir: string, modelSites?: readonly Site[], modelType?: string): Promise<StoredAdapterSite[]> {
  const plan = await planAdapter(dir, modelSites, modelType);
  const reader = await SafetensorsReader.open(join(dir, ADAPTER_WEIGHTS));
  try {
    const out: StoredAdapterSite[] = [];
    for (const { aName, bName, ...site } of plan) out.push({ ...site, loraA: await reader.read(aName), loraB: await reader.read(bName) });
    return out;
  } finally {
    await reader.close();
  }
}

/**
 * Loads a PEFT-layout adapter onto `model` (read and checked by `readAdapter` against the model's sites before the
 * model is touched).
 */
export async function loadAdapter(model: Module, dir: string, seed = 0): Promise<LoraLayer[]> {
  const modelType = (model as { config?: { model_type?: unknown } }).config?.model_type;
  const sites = await readAdapter(dir, listSites(model), typeof modelType === 'string' ? modelType : undefined);
  const layers = injectLora(model, sites, seed);
  layers.forEach((layer, i) => {
    const s = sites[i];
    if (layer.kind !== s.kind) throw new Error(`${dir}: site "${s.path}" is a ${layer.kind} layer, but the adapter holds ${s.kind} factors`);
    tf.tidy(() => {
      const { a, b } = fromPeftLayout(s);
      if (a.shape.join() !== layer.loraA.shape.join()) throw new Error(`${dir}: site "${s.path}": lora_A is [${s.r}, ${s.inFeatures}, ${s.kernelSize?.join(', ')}], the layer's kernel needs A [${layer.loraA.shape.join(', ')}]`);
      layer.loraA.assign(a);
      layer.loraB.assign(b);
    });
  });
  return layers;
}
