import { Conv2d } from '@rankwise/models';
import { EmbeddingSite } from '@rankwise/models';
import { Linear } from '@rankwise/models';
import type { Module } from '@rankwise/models';
import { listSites } from '@rankwise/models';
import { Rng } from '@rankwise/models';
import { LoraConv2d } from './lora-conv2d.js';
import { LoraEmbedding } from './lora-embedding.js';
import { checkAdapterName, DEFAULT_ADAPTER, LoraLayer, type LoraOptions } from './lora-layer.js';
import { LoraLinear } from './lora-linear.js';

/** One site to adapt and its LoRA settings (placements produce these). */
export interface InjectTarget extends LoraOptions {
  path: string;
}

/** The LoRA form of a site module: Linear → LoraLinear, Conv2d → LoraConv2d, EmbeddingSite → LoraEmbedding. */
function wrap(base: Module, path: string, options: LoraOptions, rng: Rng, name: string): LoraLayer {
  if (base instanceof Linear) return new LoraLinear(base, options, rng, name);
  if (base instanceof Conv2d) return new LoraConv2d(base, options, rng, name);
  if (base instanceof EmbeddingSite) return new LoraEmbedding(base, options, rng, name);
  throw new Error(`site "${path}" (${base.constructor.name}) has no LoRA form; LoRA applies to Linear, Conv2d and EmbeddingSite`);
}

/**
 * Wraps each target site in its LoRA layer (a fresh kaiming / gaussian adapter adds exact zeros). The factors' values
 * depend only on `seed`, the site path and the adapter name, never on which other sites are adapted. PiSSA / OLoRA
 * layers still need `initializeFromBase()` (it reads W): use `injectAdapters`, which awaits it.
 * `name` (default "default"): the adapter's name. A site that already has LoRA adapters gets this one added beside them
 * (PEFT's add_adapter). When the model already had adapters, the model's active set stays as it was (the new adapter is
 * inactive and not trainable until `setAdapter`), as PEFT's inject_adapter does; otherwise the new adapter is active.
 */
export function injectLora(model: Module, targets: readonly InjectTarget[], seed: number, name: string = DEFAULT_ADAPTER): LoraLayer[] {
  checkAdapterName(name);
  const sites = new Map(listSites(model).map((s) => [s.path, s]));
  const seen = new Set<string>();
  const before = loraLayers(model);
  for (const target of targets) {
    const site = sites.get(target.path);
    if (!site) throw new Error(`target "${target.path}" not found; available sites: ${[...sites.keys()].join(', ')}`);
    if (site.adapted) {
      const existing = model.getSubmodule(target.path);
      if (!(existing instanceof LoraLayer) || existing.adapter(name)) {
        throw new Error(`site "${target.path}" already has a LoRA adapter${name === DEFAULT_ADAPTER ? '' : ` named "${name}"`}`);
      }
    }
    if (seen.has(target.path)) throw new Error(`site "${target.path}" is targeted twice`);
    seen.add(target.path);
  }
  const root = new Rng(seed);
  const layers = targets.map((target) => {
    const rng = name === DEFAULT_ADAPTER ? root.fork(target.path) : root.fork(target.path).fork(name);
    const existing = model.getSubmodule(target.path);
    if (existing instanceof LoraLayer) {
      existing.addAdapter(name, target, rng);
      return existing;
    }
    const lora = wrap(existing, target.path, target, rng, name);
    model.setSubmodule(target.path, lora);
    return lora;
  });
  if (before.length > 0) {
    // PEFT's inject_adapter ends with set_adapter(active_adapters): the model-wide active set, on every layer.
    const [, first] = before[0];
    const active = first.activeAdapters;
    const disabled = first.disabled;
    for (const layer of new Set(layers)) {
      layer.setActive(active);
      layer.setDisabled(disabled);
    }
  }
  return layers;
}

/** Every LoRA layer in the model with its site path. */
export function loraLayers(model: Module): Array<[string, LoraLayer]> {
  return model.namedModules().filter((e): e is [string, LoraLayer] => e[1] instanceof LoraLayer);
}

/**
 * `injectLora`, then the inits that read W (PiSSA, OLoRA; Linear sites) run: each such layer's A, B come from its W
 * and the base keeps the residual. The model is usable when the promise resolves.
 */
export async function injectAdapters(model: Module, targets: readonly InjectTarget[], seed: number, name: string = DEFAULT_ADAPTER): Promise<LoraLayer[]> {
  const layers = injectLora(model, targets, seed, name);
  for (const layer of layers) if (layer instanceof LoraLinear) await layer.initializeFromBase();
  return layers;
}
