import type { DependencyContainer } from 'tsyringe';
import type { StageName } from '../pipeline/types.js';
import { stageToken } from '../tokens.js';
import type { Stage } from './stage.js';
import { EvaluateStage } from './evaluate.js';
import { FreezeStage, UnfreezeStage } from './freeze.js';
import { InjectStage } from './inject.js';
import { LoadStage } from './load.js';
import { MergeStage } from './merge.js';
import { SaveStage } from './save.js';
import { TrainStage } from './train.js';

/** Every stage class by name; resolved per run from the run's child container. */
export const STAGE_CLASSES = {
  load: LoadStage,
  freeze: FreezeStage,
  unfreeze: UnfreezeStage,
  inject: InjectStage,
  train: TrainStage,
  evaluate: EvaluateStage,
  merge: MergeStage,
  save: SaveStage,
} as const satisfies Record<StageName, unknown>;

export function registerStages(container: DependencyContainer): void {
  for (const [name, stageClass] of Object.entries(STAGE_CLASSES)) {
    const useClass = stageClass as unknown as new (...args: unknown[]) => Stage;
    container.register<Stage>(stageToken(name as StageName), { useClass });
  }
}
