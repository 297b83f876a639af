import { mkdir, readFile } from 'node:fs/promises';
import { baseModelOf, peftTaskType } from './base-model.js';
import { atomicWriteFile } from './atomic-write.js';
import { describeFsError, isFsError } from './fs-errors.js';
import { parseJsonText } from './json-text.js';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Module } from '@rankwise/models';
import { listSites, type Site } from '@rankwise/models';
import { adapterNames } from '@rankwise/lora';
import { injectAdapters, loraLayers } from '@rankwise/lora';
import {
  initMovesBase,
  linearOnlySummary,
  loraVariant,
  matchVariantTensor,
  PLAIN_LORA,
  variantTensorNames,
  variantTensorShape,
  type LoraInit,
} from '@rankwise/lora';
import type { LoraVariant } from '@rankwise/lora';
import { checkAdapterName, DEFAULT_ADAPTER, LoraLayer, loraScaling, type LoraAdapter, type LoraKind } from '@rankwise/lora';
import { LoraConv2d } from '@rankwise/lora';
import { LoraLinear, type InitialAdapter } from '@rankwise/lora';
import { toOriginalBase } from './adapter-conversion.js';
import { buildPeftConfig, parsePeftConfig, peftPatternValue, peftSiteSettings, peftTargetSites, type PeftLoraConfig } from './peft-config.js';
import { fromPeftLayout, peftTensors } from './peft-layout.js';
import { assertFiniteTensor } from './finite-values.js';
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
  /** The variant's registry name ("lora", "dora"); absent: "dora" when `magnitude` is set, else "lora". */
  variant?: string;
  /** The variant's extra tensors by PEFT name (`lora_magnitude_vector` [out]); absent: from `magnitude`. */
  extras?: Record<string, tf.Tensor>;
  /** Compatibility alias of extras.lora_magnitude_vector (DoRA's m [out]); null without DoRA. */
  magnitude?: tf.Tensor | null;
  init: LoraInit;
  /** PiSSA / OLoRA: A₀, B₀ from the init, so the saved adapter can be made relative to the original W. */
  initial: InitialAdapter | null;
}

/** One named adapter's sites (PEFT saves each adapter on its own: the folder itself for "default", else <name>/). */
export interface NamedAdapterSites {
  name: string;
  sites: AdapterSite[];
}

/** Adapter weights detached from a model (clones), e.g. kept after merge so save can still write them. */
export interface AdapterSnapshot {
  /** The sites of the first active adapter (the one adapter of a single-adapter model). */
  sites: AdapterSite[];
  /** Every adapter, in the order `adapterNames` lists them. */
  adapters: NamedAdapterSites[];
  dispose(): void;
}

/** Each adapter's sites, factors as given by `pick` (the variables themselves, or clones). */
function namedSites(model: Module, pick: (v: tf.Variable) => tf.Tensor): NamedAdapterSites[] {
  const layers = loraLayers(model);
  return adapterNames(model).map((name) => ({
    name,
    sites: layers.flatMap(([path, l]) => {
      const adapter = l.adapter(name);
      return adapter
        ? [siteOf(path, l, adapter, pick(adapter.a), pick(adapter.b), Object.fromEntries(Object.entries(adapter.extras).map(([k, v]) => [k, pick(v)])))]
        : [];
    }),
  }));
}

export function snapshotAdapter(model: Module): AdapterSnapshot {
  const adapters = namedSites(model, (v) => v.clone());
  const layers = loraLayers(model);
  const first = layers.length > 0 ? layers[0][1].activeAdapters.find((n) => adapters.some((a) => a.name === n)) : undefined;
  const sites = (adapters.find((a) => a.name === first) ?? adapters[0])?.sites ?? [];
  return { sites, adapters, dispose: () => adapters.forEach((a) => a.sites.forEach((s) => tf.dispose([s.a, s.b, ...Object.values(s.extras ?? {})]))) };
}

function siteOf(path: string, layer: LoraLayer, adapter: LoraAdapter, a: tf.Tensor, b: tf.Tensor, extras: Record<string, tf.Tensor>): AdapterSite {
  const kernelSize = layer instanceof LoraConv2d ? layer.base.geometry.kernelSize : undefined;
  const initial = layer instanceof LoraLinear && initMovesBase(adapter.init) ? layer.initial : null;
  return {
    path,
    r: adapter.r,
    alpha: adapter.alpha,
    rslora: adapter.rslora,
    dropout: adapter.dropout,
    kind: layer.kind,
    kernelSize,
    a,
    b,
    variant: adapter.variant,
    extras,
    magnitude: extras.lora_magnitude_vector ?? null,
    init: adapter.init,
    initial,
  };
}

/** A site's variant and extra tensors (sites built before variants had names carry DoRA's m as `magnitude`). */
export function siteVariant(site: AdapterSite): { variant: LoraVariant; extras: Record<string, tf.Tensor> } {
  if (site.variant !== undefined || site.extras !== undefined) return { variant: loraVariant(site.variant ?? PLAIN_LORA), extras: site.extras ?? {} };
  return site.magnitude
    ? { variant: loraVariant('dora'), extras: { lora_magnitude_vector: site.magnitude } }
    : { variant: loraVariant(PLAIN_LORA), extras: {} };
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
  /** The init the site was trained from (PEFT's init_lora_weights holds one value for the whole adapter). */
  init?: LoraInit;
  /** A PiSSA / OLoRA site saved relative to the original W: its rank and alpha before the conversion. */
  convertedFrom?: { r: number; alpha: number };
}

/**
/**
 * Writes PEFT's layout: adapter_config.json with PEFT's keys only (see buildPeftConfig: mixed rsLoRA is folded into
 * alpha_pattern so PEFT reproduces every site's scaling; use_dora, init_lora_weights) and adapter_model.safetensors
 * with lora_A.weight [r, in] = Aᵀ, lora_B.weight [out, r] = Bᵀ (conv2d and embedding sites in PEFT's layouts:
 * io/peft-layout.ts) and the variant's tensors under their PEFT names (DoRA: lora_magnitude_vector [out]).
 * PiSSA / OLoRA adapters are written relative to the original W, as PEFT's
 * `save_pretrained(path_initial_model_for_weight_conversion=…)` does: rank 2r, A' = [A | A₀], B' = [B | −B₀] (see adapter-conversion.ts), so loading them on the original base reproduces the model.
 * rankwise's own per-site settings (alpha as given, rsLoRA, dropout, the init and what a converted site was) travel in
 * the weights' `__metadata__`, which PEFT ignores; on reading, they are used only where they agree with PEFT's fields.
 */
export async function saveAdapterSites(given: readonly AdapterSite[], dir: string, options: AdapterSaveOptions = {}): Promise<void> {
  if (given.length === 0) throw new Error('no LoRA adapters to save (no inject stage ran, or they were merged without a snapshot)');
  const variants = given.map(siteVariant);
  const variant = variants[0].variant;
  const mixed = variants.findIndex((v) => v.variant !== variant);
  if (mixed >= 0) {
    const key = [variant, variants[mixed].variant].find((v) => v.peft)?.peft?.key ?? 'the variant';
    throw new Error(
      `cannot save one PEFT adapter with different variants on its sites ("${given[0].path}" is ${variant.label}, "${given[mixed].path}" is ${variants[mixed].variant.label}); PEFT's ${key} is one setting`,
    );
  }
  const converted = given.map((s) => toOriginalBase(s));
  const sites = converted.map((c) => c.site);
  const inits = new Set(given.map((s) => s.init));
  // A converted PiSSA / OLoRA adapter is a plain LoRA of the original W (PEFT writes true for it as well).
  const initLoraWeights = inits.size === 1 && inits.has('gaussian') ? ('gaussian' as const) : true;
  const config = buildPeftConfig(sites, { ...options, variant: variant.name, initLoraWeights });
  const own: RankwiseSiteMetadata[] = sites.map((s, i) => ({
    path: s.path,
    alpha: s.alpha,
    rslora: s.rslora,
    dropout: s.dropout,
    init: given[i].init,
    ...(converted[i].converted ? { convertedFrom: { r: given[i].r, alpha: given[i].alpha } } : {}),
  }));
  await mkdir(dir, { recursive: true });
  const tensors = tf.tidy(() =>
    sites.flatMap((s, i) => [
      ...peftTensors(s, PEFT_PREFIX),
      ...variant.tensors.map((t) => {
        const tensor = variants[i].extras[t.key];
        if (!tensor) throw new Error(`site "${s.path}": ${variant.label} adapter without its tensor "${t.key}"`);
        return { name: `${PEFT_PREFIX}${s.path}.${t.key}`, tensor: tensor.clone() }; // e.g. [out]
      }),
    ]),
  );
  try {
    const metadata = { format: 'pt', producer: 'rankwise', [RANKWISE_METADATA]: JSON.stringify({ version: 2, sites: own }) };
    await writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), tensors, metadata);
  } finally {
    tf.dispose(tensors.map((t) => t.tensor));
    for (const c of converted) if (c.converted) tf.dispose([c.site.a, c.site.b]);
  }
  await atomicWriteFile(join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}

/** Where PEFT's save_pretrained writes adapter `name` under `dir`: `dir` itself for "default", else `dir/<name>`. */
export function adapterFolder(dir: string, name: string): string {
  return name === DEFAULT_ADAPTER ? dir : join(dir, name);
}

/** Writes each adapter in PEFT's layout, "default" at the top of `dir` and every other one in `dir/<name>/`. */
export async function saveNamedAdapters(adapters: readonly NamedAdapterSites[], dir: string, options: AdapterSaveOptions = {}): Promise<string[]> {
  if (adapters.length === 0) throw new Error('no LoRA adapters to save (no inject stage ran, or they were merged without a snapshot)');
  const written: string[] = [];
  for (const { name, sites } of adapters) {
    const folder = adapterFolder(dir, name);
    await saveAdapterSites(sites, folder, options);
    written.push(folder);
  }
  return written;
}

/**
 * Saves the adapters currently in `model` as PEFT's save_pretrained does: the adapter named "default" (the one a
 * single-adapter model has) at the top of `dir`, every other one in `dir/<name>/`; `names` picks some (default all).
 * `baseModel` and `taskType` default to what the save stage writes (io/base-model.ts). Returns the folders written.
 */
export async function saveAdapter(model: Module, dir: string, options: AdapterSaveOptions & { names?: readonly string[] } = {}): Promise<string[]> {
  const all = namedSites(model, (v) => v);
  const names = options.names ?? all.map((a) => a.name);
  for (const name of names)
    if (!all.some((a) => a.name === name))
      throw new Error(`saveAdapter: no adapter named ${JSON.stringify(name)}; adapters: ${all.map((a) => a.name).join(', ')}`);
  // without options, what the save stage writes: the base the model was loaded from, CAUSAL_LM for language models
  const config = {
    baseModel: options.baseModel !== undefined ? options.baseModel : baseModelOf(model),
    taskType: options.taskType !== undefined ? options.taskType : peftTaskType(model),
  };
  return saveNamedAdapters(
    all.filter((a) => names.includes(a.name)),
    dir,
    { ...options, ...config },
  );
}

/** Reads and checks adapter_config.json (not the weights) with PEFT's rules. */
export async function readAdapterConfig(dir: string): Promise<{ config: PeftLoraConfig; file: string }> {
  const file = join(dir, ADAPTER_CONFIG);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${dir}: not an adapter directory (${ADAPTER_CONFIG} missing)`);
    throw new Error(isFsError(error) ? `cannot read ${describeFsError(error, file)}` : `${file}: cannot read (${(error as Error).message})`);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new Error(`${file}: not valid JSON (${parsed.message})`);
  const config: unknown = parsed.value;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new Error(`${file}: /: found ${Array.isArray(config) ? 'an array' : JSON.stringify(config)}, allowed: an object`);
  }
  const bad = (pointer: string, found: unknown, allowed: string): never => {
    throw new Error(`${file}: ${pointer}: found ${JSON.stringify(found)}, allowed: ${allowed}`);
  };
  const peft = parsePeftConfig(config, file);
  // Adapters written by earlier rankwise versions carry a `rankwise` block in the config: still checked when present.
  checkRankwiseSites((config as { rankwise?: unknown }).rankwise, bad);
  return { config: peft, file };
}

/** The optional legacy `rankwise.sites` list: each item an object with a string path and a positive rank and alpha. */
function checkRankwiseSites(rankwise: unknown, bad: (pointer: string, found: unknown, allowed: string) => never): void {
  if (rankwise === undefined) return;
  if (typeof rankwise !== 'object' || rankwise === null || Array.isArray(rankwise)) bad('/rankwise', rankwise, 'an object');
  const sites = (rankwise as { sites?: unknown }).sites;
  if (sites === undefined) return;
  if (!Array.isArray(sites)) bad('/rankwise/sites', sites, 'an array of { path, r, alpha }');
  (sites as unknown[]).forEach((site, i) => {
    const at = `/rankwise/sites/${i}`;
    if (typeof site !== 'object' || site === null || Array.isArray(site)) bad(at, site, 'an object { path, r, alpha }');
    const s = site as Record<string, unknown>;
    if (typeof s.path !== 'string') bad(`${at}/path`, s.path, 'a site path');
    if (!Number.isInteger(s.r) || (s.r as number) < 1) bad(`${at}/r`, s.r, 'a positive integer');
    if (typeof s.alpha !== 'number' || !(s.alpha > 0) || !Number.isFinite(s.alpha)) bad(`${at}/alpha`, s.alpha, 'a positive number');
  });
}

/**
 * `[base_model.model.]<site>.lora_A|B[.default].weight` or `<site>.lora_embedding_A|B[.default]` → site path, A or B
 * (PEFT writes `.default` in some versions).
 */
export const LORA_WEIGHT = /^(?:base_model\.model\.)?(.+)\.lora_(?:([AB])(?:\.default)?\.weight|embedding_([AB])(?:\.default)?)$/;

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
  /** The variant's registry name (from the config's variant key, e.g. use_dora). */
  variant: string;
  /** The variant's extra tensors by PEFT name, as stored (lora_magnitude_vector [out]). */
  extras: Record<string, Float32Array>;
  /** Compatibility alias of extras.lora_magnitude_vector (DoRA's m [out]); null without DoRA. */
  magnitude: Float32Array | null;
  /** kaiming for every adapter saved relative to its base; pissa / olora for one saved without conversion. */
  init: LoraInit;
}

/** An adapter site planned from the config and the weights' header alone (no tensor data read). */
export type PlannedAdapterSite = Omit<StoredAdapterSite, 'loraA' | 'loraB' | 'extras' | 'magnitude'> & {
  aName: string;
  bName: string;
  extraNames: Record<string, string>;
};

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
  // The variant's tensors (DoRA's lora_magnitude_vector): site path → tensor key → stored name.
  const extraNames = new Map<string, Map<string, string>>();
  const variant = loraVariant(config.variant);
  const init = config.init;
  for (const name of entries.keys()) {
    const extra = matchVariantTensor(name);
    if (extra) {
      const { path, tensor } = extra;
      if (extra.variant !== variant)
        throw new Error(
          `${weightsFile}: tensor "${name}" is ${tensor.what} (${extra.variant.label}) but ${configFile} does not set "${extra.variant.peft?.key ?? extra.variant.name}": true`,
        );
      const names = extraNames.get(path) ?? new Map<string, string>();
      const other = names.get(tensor.key);
      if (other !== undefined) throw new Error(`${weightsFile}: tensors "${other}" and "${name}" are both the ${tensor.key} of site "${path}"`);
      extraNames.set(path, names.set(tensor.key, name));
      continue;
    }
    const match = LORA_WEIGHT.exec(name);
    if (!match)
      throw new Error(
        `${weightsFile}: tensor "${name}": not a LoRA weight (expected <site>.lora_A.weight, <site>.lora_B.weight, <site>.lora_embedding_A, <site>.lora_embedding_B${variantTensorNames()
          .map((n) => ` or ${n}`)
          .join('')})`,
      );
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
      throw new Error(
        `${weightsFile}: tensor "${bName}": shape [${b.shape.join(', ')}], ${expected(`[${site ? site.outFeatures : 'out'}, ${r}${kind === 'conv2d' ? ', 1, 1' : ''}]`)}`,
      );
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
    if (kind !== 'linear' && (variant.linearOnly || initMovesBase(init))) {
      const what = variant.linearOnly ? `"${variant.peft?.key ?? variant.name}": true` : `"init_lora_weights": ${JSON.stringify(init)}`;
      throw new Error(`${configFile}: ${what}, but site "${path}" holds ${kind} factors; rankwise supports ${linearOnlySummary()} on Linear sites only`);
    }
    const extras: Record<string, string> = {};
    for (const t of variant.tensors) {
      const eName = extraNames.get(path)?.get(t.key);
      const e = eName === undefined ? undefined : entries.get(eName);
      if (!e || eName === undefined)
        throw new Error(`${weightsFile}: site "${path}" has no ${t.key}, but ${configFile} sets "${variant.peft?.key ?? variant.name}": true`);
      const shape = variantTensorShape(t, b.shape[0]);
      if (e.shape.join() !== shape.join())
        throw new Error(`${weightsFile}: tensor "${eName}": shape [${e.shape.join(', ')}], expected [${shape.join(', ')}] (${t.what})`);
      extras[t.key] = eName;
    }
    // A gaussian init only decides fresh factors (the stored ones replace them); non-Linear sites start as kaiming.
    const siteInit: LoraInit = kind === 'linear' ? init : 'kaiming';
    return {
      path,
      r,
      alpha,
      rslora,
      dropout,
      kind,
      kernelSize,
      inFeatures: a.shape[1],
      outFeatures: b.shape[0],
      aName,
      bName,
      variant: variant.name,
      extraNames: extras,
      init: siteInit,
    };
  });
  for (const [path, name] of bNames) if (!aNames.has(path)) throw new Error(`${weightsFile}: tensor "${name}" has no matching lora_A`);
  for (const [path, names] of extraNames)
    for (const name of names.values()) if (!aNames.has(path)) throw new Error(`${weightsFile}: tensor "${name}" has no matching lora_A`);
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
      throw new Error(
        `${configFile}: /target_modules: ${shown} selects none of the model's sites (PEFT's rules: a list entry matches a module name exactly or as its last ".name" parts, a string must match the whole name); sites: ${modelSites.map((s) => s.path).join(', ')}`,
      );
    }
    const chosen = new Set(targeted.map((s) => s.path));
    for (const path of aNames.keys()) {
      if (sites!.has(path) && !chosen.has(path))
        throw new Error(
          `${weightsFile}: site "${path}" has weights, but ${configFile}'s target_modules ${shown} does not select it (PEFT would not load them)`,
        );
    }
    for (const site of targeted) {
      if (!aNames.has(site.path))
        throw new Error(`${weightsFile}: target_modules ${shown} selects "${site.path}", which has no lora_A / lora_B weights in the file`);
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
    for (const { aName, bName, extraNames, ...site } of plan) {
      // Non-finite values are refused, naming the file and tensor, before the model is touched.
      const read = async (name: string): Promise<Float32Array> => {
        const data = await reader.read(name);
        assertFiniteTensor(reader.file, name, data, 'refusing to load non-finite weights');
        return data;
      };
      const loraA = await read(aName);
      const loraB = await read(bName);
      const extras: Record<string, Float32Array> = {};
      for (const [key, name] of Object.entries(extraNames)) extras[key] = await read(name);
      out.push({ ...site, loraA, loraB, extras, magnitude: extras.lora_magnitude_vector ?? null });
    }
    return out;
  } finally {
    await reader.close();
  }
}

/**
 * Loads a PEFT-layout adapter onto `model` (read and checked by `readAdapter` against the model's sites before the
 * model is touched). An adapter saved by PEFT without conversion from PiSSA / OLoRA (init_lora_weights "pissa" /
 * "olora") is loaded as PEFT loads it: the init runs again to put the residual W − s·A₀·B₀ in the base (that
 * residual does not depend on the singular vectors' signs), then A, B are replaced by the stored ones.
 */
export async function loadAdapter(model: Module, dir: string, seed = 0, name: string = DEFAULT_ADAPTER): Promise<LoraLayer[]> {
  checkAdapterName(name);
  const modelType = (model as { config?: { model_type?: unknown } }).config?.model_type;
  // Sites that already carry other adapters take this one beside them (PEFT's load_adapter): planned as plain sites.
  const modelSites = listSites(model).map((site) => {
    const module = model.getSubmodule(site.path);
    return module instanceof LoraLayer && !module.adapter(name) ? { ...site, adapted: false } : site;
  });
  const sites = await readAdapter(dir, modelSites, typeof modelType === 'string' ? modelType : undefined);
  if (loraLayers(model).length > 0) {
    const moving = sites.find((s) => initMovesBase(s.init));
    if (moving)
      throw new Error(
        `${dir}: saved with init_lora_weights "${moving.init}" (not converted), it needs the base W it moved; it cannot be loaded beside other adapters`,
      );
  }
  const layers = await injectAdapters(
    model,
    sites.map(({ extras: _, magnitude: __, ...s }) => s),
    seed,
    name,
  );
  layers.forEach((layer, i) => {
    const s = sites[i];
    const adapter = layer.adapter(name)!;
    if (layer.kind !== s.kind) throw new Error(`${dir}: site "${s.path}" is a ${layer.kind} layer, but the adapter holds ${s.kind} factors`);
    tf.tidy(() => {
      const { a, b } = fromPeftLayout(s);
      if (a.shape.join() !== adapter.a.shape.join())
        throw new Error(
          `${dir}: site "${s.path}": lora_A is [${s.r}, ${s.inFeatures}, ${s.kernelSize?.join(', ')}], the layer's kernel needs A [${adapter.a.shape.join(', ')}]`,
        );
      adapter.a.assign(a);
      adapter.b.assign(b);
      for (const [key, values] of Object.entries(s.extras)) adapter.extras[key].assign(tf.tensor(values, adapter.extras[key].shape)); // e.g. [out]
    });
  });
  return layers;
}
