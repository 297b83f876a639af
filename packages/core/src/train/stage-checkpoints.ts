import { join } from 'node:path';
import type { RunDirectory } from '../contracts/stage.js';
import { CHECKPOINTS_DIR } from '../run/open-run.js';
import { restoreTrainCheckpoint, saveTrainCheckpoint, type LoopState, type TrainingParts } from './checkpoint.js';
import type { CheckpointPolicy } from './loop.js';

/**
 * A train stage's checkpoints: `<run>/checkpoints/train-<index>/step-<n>`. In a resumed run the newest one is
 * restored into `parts` before the loop starts. Sessions without a run directory write none.
 */
export async function trainCheckpointing(
  runDir: RunDirectory,
  index: number,
  parts: TrainingParts,
  steps: number,
  everySteps: number | undefined,
): Promise<{ policy?: CheckpointPolicy; resume: LoopState | null }> {
  if (!runDir.dir || !runDir.checkpoints) return { resume: null };
  const dir = join(runDir.dir, CHECKPOINTS_DIR, `train-${index}`);
  const resume = runDir.resumed ? await restoreTrainCheckpoint(dir, parts, steps) : null;
  return {
    resume,
    policy: {
      everySteps,
      save: async (state) => {
        await saveTrainCheckpoint(dir, parts, state, steps);
      },
    },
  };
}
