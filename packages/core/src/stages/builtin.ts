import type { AnyStageDefinition } from '../contracts/stage.js';
import evaluate from './evaluate.js';
import freeze from './freeze.js';
import generate from './generate.js';
import inject from './inject.js';
import load from './load.js';
import merge from './merge.js';
import save from './save.js';
import train from './train.js';
import unfreeze from './unfreeze.js';

/**
 * The built-in stages, in the order the schema lists them: the one list. Their names, the `Pipeline` stage types,
 * the results `session.stage()` returns and the pipeline schema are all derived from it; adding a stage is its file
 * and one entry here.
 */
export const BUILTIN_STAGES = [load, freeze, unfreeze, inject, train, evaluate, merge, save, generate] as const;

/** A built-in stage definition (each with its literal name, options and result types). */
export type BuiltinStageDefinition = (typeof BUILTIN_STAGES)[number];
export type StageName = BuiltinStageDefinition['name'];
export const STAGE_NAMES: readonly StageName[] = BUILTIN_STAGES.map((s) => s.name);

export function builtinStage(name: string): AnyStageDefinition | undefined {
  return (BUILTIN_STAGES as readonly AnyStageDefinition[]).find((s) => s.name === name);
}
