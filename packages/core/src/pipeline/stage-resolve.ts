import type { AnyStageDefinition } from '../contracts/stage.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { didYouMeanSuffix } from '../plugins/did-you-mean.js';
import { builtinStage, STAGE_NAMES } from '../stages/builtin.js';
import type { ValidationIssue } from './issues.js';

/** A stage by name: a built-in, else a stage registered in code or installed as a package (through the registry). */
export async function resolveStage(name: string, plugins: PluginRegistry): Promise<AnyStageDefinition> {
  return builtinStage(name) ?? (await plugins.getStage(name));
}

/** Every stage's definition; a name that resolves to none becomes an issue at `/stages/<i>/stage`. */
export async function resolveStages(
  specs: ReadonlyArray<{ stage: string }>,
  plugins: PluginRegistry,
  file: string,
  issues: ValidationIssue[],
): Promise<Array<AnyStageDefinition | undefined>> {
  const definitions: Array<AnyStageDefinition | undefined> = [];
  for (const [i, spec] of specs.entries()) {
    try {
      definitions.push(await resolveStage(spec.stage, plugins));
    } catch (error) {
      const allowed = STAGE_NAMES.map((n) => JSON.stringify(n)).join(', ');
      const near = didYouMeanSuffix(spec.stage, STAGE_NAMES);
      issues.push({
        file,
        pointer: `/stages/${i}/stage`,
        message: `found ${JSON.stringify(spec.stage)}${near}, allowed: ${allowed} or an installed stage package (${(error as Error).message})`,
      });
      definitions.push(undefined);
    }
  }
  return definitions;
}

/**
 * The placement plugins the stages name (`placement.plugin`), each loaded once: a missing one becomes an issue at
 * its pointer. Used when stage names already failed, so one run reports every missing package at once.
 */
export async function checkPlacementPlugins(specs: ReadonlyArray<object>, plugins: PluginRegistry, file: string, issues: ValidationIssue[]): Promise<void> {
  for (const [i, spec] of specs.entries()) {
    const placement = (spec as { placement?: unknown }).placement;
    const name = typeof placement === 'object' && placement !== null ? (placement as { plugin?: unknown }).plugin : undefined;
    if (typeof name !== 'string') continue;
    try {
      await plugins.get(name);
    } catch (error) {
      issues.push({ file, pointer: `/stages/${i}/placement/plugin`, message: (error as Error).message });
    }
  }
}
