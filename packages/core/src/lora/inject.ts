import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { listSites } from '../nn/site.js';
import { Rng } from '../random.js';
import { LoraLinear, type LoraOptions } from './lora-linear.js';

/** One site to adapt and its LoRA settings (placements produce these). */
export interface InjectTarget extends LoraOptions {
  path: string;
}

/**
 * Wraps each target Linear in a LoraLinear (A Kaiming-uniform or gaussian, B zeros). A's values depend only on
 * `seed` and the site path, never on which other sites are adapted. PiSSA / OLoRA layers still need
 * `initializeFromBase()` (it reads W): use `injectAdapters`, which awaits it.
 */
export function injectLora(model: Module, targets: readonly InjectTarget[], seed: number): LoraLinear[] {
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
    const base = model.getSubmodule(target.path);
    if (!(base instanceof Linear)) throw new Error(`site "${target.path}" is not a Linear`);
    const lora = new LoraLinear(base, target, root.fork(target.path));
    model.setSubmodule(target.path, lora);
    return lora;
  });
}

/** Every LoRA layer in the model with its site path. */
export function loraLayers(model: Module): Array<[string, LoraLinear]> {
  return model.namedModules().filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
}

/**
 * `injectLora`, then the inits that read W (PiSSA, OLoRA) run: each layer's A, B come from its W and the base keeps
 * the residual. The model is usable when the promise resolves.
 */
export async function injectAdapters(model: Module, targets: readonly InjectTarget[], seed: number): Promise<LoraLinear[]> {
  const layers = injectLora(model, targets, seed);
  for (const layer of layers) await layer.initializeFromBase();
  return layers;
}
