import type { ModelDescription } from '@rankwise/models/description';
import { ADAPTABLE_CLASSES } from '@rankwise/models';
import type { Site } from '@rankwise/models';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ValidationIssue } from './issues.js';
import type { PlacementSpec } from './types.js';

/**
 * A placement that names layers with no LoRA form (BatchNormalization, pooling, …): the plugin is asked once more
 * with those layers offered as sites, and each one it picks is an error naming the layer and the types that adapt.
 * Returns true when it found any (the caller then reports these instead of the generic placement issues).
 */
export async function checkUnadaptableTargets(
  spec: PlacementSpec,
  model: ModelDescription,
  pointer: string,
  file: string,
  plugins: PluginRegistry,
  issues: ValidationIssue[],
): Promise<boolean> {
  // "all-linear" means every site the model has: it names no layer, so it cannot name a wrong one.
  if (!model.layers || (spec.options as { target?: unknown } | undefined)?.target === 'all-linear') return false;
  const sitePaths = new Set(model.sites.map((s) => s.path));
  const others = model.layers.filter((l) => !sitePaths.has(l.name));
  const pseudo: Site[] = others.map((l) => ({ path: l.name, inFeatures: 0, outFeatures: 0, layer: l.index, role: l.className.toLowerCase(), adapted: false }));
  let chosen: Array<{ path: string }>;
  try {
    const plugin = await plugins.get(spec.plugin);
    chosen = plugin.select([...model.sites, ...pseudo], spec.options ?? {});
  } catch {
    return false; // the regular placement check reports plugin and option problems
  }
  const bad = others.filter((l) => chosen.some((c) => c.path === l.name));
  const adaptable = model.layers.filter((l) => sitePaths.has(l.name)).map((l) => l.name);
  for (const layer of bad) {
    issues.push({
      file,
      pointer: `${pointer}/options`,
      message: `layer "${layer.name}" is a ${layer.className}, which has no LoRA form; LoRA applies to ${ADAPTABLE_CLASSES.join(', ')} layers (this model's: ${adaptable.join(', ') || 'none'})`,
    });
  }
  return bad.length > 0;
}
