import type { AnyStageDefinition } from '../contracts/stage.js';
import type { PluginRegistry } from '../plugins/registry.js';
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
      issues.push({ file, pointer: `/stages/${i}/stage`, message: `found ${JSON.stringify(spec.stage)}, allowed: ${allowed} or an installed stage package (${(error as Error).message})` });
      definitions.push(undefined);
    }
  }
  return definitions;
}
