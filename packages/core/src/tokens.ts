import type { StageName } from './pipeline/types.js';

/** Every injection token in one place. Stages and services ask for these with explicit `@inject(TOKEN)`. */
export const TOKENS = {
  /** PluginRegistry: placement plugins. */
  Plugins: Symbol.for('rankwise.Plugins'),
  /** DatasetSource: turns data specs into arrays. */
  Datasets: Symbol.for('rankwise.Datasets'),
  /** ProgressReporter: log lines and progress bars. */
  Progress: Symbol.for('rankwise.Progress'),
  /** PipelineRunner: runs pipelines (the load stage uses it for `from`). */
  Runner: Symbol.for('rankwise.Runner'),
  /** RunContext: the state of one run; registered in each run's child container. */
  Run: Symbol.for('rankwise.Run'),
} as const;

export const stageToken = (name: StageName): string => `rankwise.stage.${name}`;
