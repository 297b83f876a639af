import { inject, injectable } from 'tsyringe';
import { snapshotAdapter } from '../io/peft-adapter.js';
import { mergeAndUnload } from '../lora/merge.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { MergeStageSpec } from '../pipeline/types.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** W ← W + scaling·A·B and back to plain Linear layers; the adapter is kept aside so `save` can still write it. */
@injectable()
export class MergeStage implements Stage<MergeStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(): Promise<void> {
    const model = this.ctx.requireModel('merge');
    this.ctx.adapterSnapshot?.dispose();
    this.ctx.adapterSnapshot = snapshotAdapter(model);
    const count = mergeAndUnload(model);
    if (count === 0) throw new Error('merge: the model has no LoRA layers');
    this.progress.info(`merge: ${count} adapters folded into their weights (no extra inference cost)`);
  }
}
