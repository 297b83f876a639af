import { Conv2d } from '../nn/conv2d.js';
import { EmbeddingSite } from '../nn/embedding-site.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { listSites } from '../nn/site.js';
import { Rng } from '../random.js';
import { LoraConv2d } from './lora-conv2d.js';
import { LoraEmbedding } from './lora-embedding.js';
import { LoraLayer, type LoraOptions } from './lora-layer.js';
import { LoraLinear } from './lora-linear.js';

/** One site to adapt and its LoRA settings (placements produce these). */
export interface InjectTarget extends LoraOptions {
  path: string;
}

/** The LoRA form of a site module: Linear → LoraLinear, Conv2d → LoraConv2d, EmbeddingSite → LoraEmbedding. */
function wrap(base: Module, path: string, options: LoraOptions, rng: Rng): LoraLayer {
  if (base instanceof Linear) return new LoraLinear(base, options, rng);
  if (base instanceof Conv2d) return new LoraConv2d(base, options, rng);
  if (base instanceof EmbeddingSite) return new LoraEmbedding(base, options, rng);
  throw new Error(`site "${path}" (${base.constructor.name}) has no LoRA form; LoRA applies to Linear, Conv2d and EmbeddingSite`);
}

/**
 * Wraps each target site in its LoRA layer (a fresh kaiming / gaussian adapter adds exact zeros). The factors' values
 * depend only on `seed` and the site path, never on which other sites are adapted. PiSSA / OLoRA layers still need
 * `initializeFromBase()` (it reads W): use `injectAdapters`, which awaits it.
 */
export function injectLora(model: Module, targets: readonly InjectTarget[], seed: number): LoraLayer[] {
  const sites = new Map(listSites(model).map((s) => [s.path, s]));
  const seen = new Set<string>();
  for (const target of targets) {
    const site = sites.get(target.path);
    if (!site) throw new Error(`target "${target.path}" not found; available sites: ${[...sites.keys()].join(', ')}`);
    if (site.adapted) throw new Error(`site "${target.path}" already has a LoRA adapter`);
    if (seen.has(target.path)) throw new Error(`site "${target.path}" is targeted twice`);
    seen.add(target.path);
  }
  const root = new Rng(seed);
  return targets.map((target) => {
    const lora = wrap(model.getSubmodule(target.path), target.path, target, root.fork(target.path));
    model.setSubmodule(target.path, lora);
    return lora;
  });
}

/** Every LoRA layer in the model with its site path. */
export function loraLayers(model: Module): Array<[string, LoraLayer]> {
  return model.namedModules().filter((e): e is [string, LoraLayer] => e[1] instanceof LoraLayer);
}

/**
 * `injectLora`, then the inits that read W (PiSSA, OLoRA; Linear sites) run: each such layer's A, B come from its W
 * and the base keeps the residual. The model is usable when the promise resolves.
 */
export async function injectAdapters(model: Module, targets: readonly InjectTarget[], seed: number): Promise<LoraLayer[]> {
  const layers = injectLora(model, targets, seed);
  for (const layer of layers) if (layer instanceof LoraLinear) await layer.initializeFromBase();
  return layers;
}
