import { inject, injectable } from 'tsyringe';
import { freeze, unfreeze } from '../lora/freeze.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { FreezeStageSpec, UnfreezeStageSpec } from '../pipeline/types.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** Every parameter becomes not trainable (before injecting adapters). */
@injectable()
export class FreezeStage implements Stage<FreezeStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(): Promise<void> {
    const count = freeze(this.ctx.requireModel('freeze'));
    this.progress.info(`freeze: ${count} parameter tensors frozen`);
  }
}

/** Every parameter becomes trainable (full fine-tuning). */
@injectable()
export class UnfreezeStage implements Stage<UnfreezeStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(): Promise<void> {
    const count = unfreeze(this.ctx.requireModel('unfreeze'));
    this.progress.info(`unfreeze: ${count} parameter tensors trainable`);
  }
}
