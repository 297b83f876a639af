import type { Site } from '@rankwise/models';
import { isPlacementError, type PlacementChoice } from '../contracts/placement.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { ajvIssues, type ValidationIssue } from './issues.js';
import { validateAgainst } from './schema.js';
import type { PlacementSpec } from '../contracts/stage.js';

/**
 * Resolves the plugin, validates its options against its own schema, runs `select` on the sites and checks the
 * result. Problems become issues at `pointer` (…/placement); returns the choices, or null if there were issues.
 */
export async function selectPlacement(
  spec: PlacementSpec,
  sites: readonly Site[],
  pointer: string,
  file: string,
  plugins: PluginRegistry,
  issues: ValidationIssue[],
): Promise<PlacementChoice[] | null> {
  const issue = (p: string, message: string) => issues.push({ file, pointer: p, message });
  let plugin;
  try {
    plugin = await plugins.get(spec.plugin);
  } catch (error) {
    issue(`${pointer}/plugin`, (error as Error).message);
    return null;
  }
  const options = spec.options ?? {};
  const validator = validateAgainst(plugin.optionsSchema, options);
  if (validator.errors && validator.errors.length > 0) {
    issues.push(...ajvIssues(validator.errors, options, file, `${pointer}/options`));
    return null;
  }
  let chosen: PlacementChoice[];
  try {
    chosen = plugin.select(sites, options);
  } catch (error) {
    if (isPlacementError(error)) issue(`${pointer}/options${error.pointer}`, error.message);
    else issue(pointer, `plugin ${plugin.name} failed: ${(error as Error).message}`);
    return null;
  }
  const names = sites.map((s) => s.path);
  if (chosen.length === 0) {
    issue(`${pointer}/options`, `placement selects no site; available sites: ${names.join(', ')}`);
    return null;
  }
  const seen = new Set<string>();
  for (const choice of chosen) {
    if (!names.includes(choice.path)) issue(pointer, `plugin ${plugin.name} chose "${choice.path}", which is not a site; available: ${names.join(', ')}`);
    if (seen.has(choice.path)) issue(pointer, `plugin ${plugin.name} chose "${choice.path}" twice`);
    if (choice.r !== undefined && !(Number.isInteger(choice.r) && choice.r >= 1))
      issue(pointer, `plugin ${plugin.name} gave "${choice.path}" rank ${choice.r}; allowed: an integer ≥ 1`);
    if (choice.alpha !== undefined && !(choice.alpha > 0)) issue(pointer, `plugin ${plugin.name} gave "${choice.path}" alpha ${choice.alpha}; allowed: > 0`);
    seen.add(choice.path);
  }
  return chosen;
}
