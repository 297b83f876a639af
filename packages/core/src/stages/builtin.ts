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

/** The built-in stages, in the order the schema lists them. */
export const BUILTIN_STAGES = [load, freeze, unfreeze, inject, train, evaluate, merge, save, generate] as const;

export type StageName = 'load' | 'freeze' | 'unfreeze' | 'inject' | 'train' | 'evaluate' | 'merge' | 'save' | 'generate';
export const STAGE_NAMES = BUILTIN_STAGES.map((s) => s.name) as readonly StageName[];

export function builtinStage(name: string): AnyStageDefinition | undefined {
  return (BUILTIN_STAGES as readonly AnyStageDefinition[]).find((s) => s.name === name);
}
