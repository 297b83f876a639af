import { inject, injectable } from 'tsyringe';
import { saveCheckpoint } from '../io/checkpoint.js';
import { saveAdapter, saveAdapterSites } from '../io/peft-adapter.js';
import { loraLayers } from '../lora/inject.js';
import type { JsonObject } from '../nn/model.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { SaveStageSpec } from '../pipeline/types.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** adapter/ in PEFT's layout and merged/ as a checkpoint (config.json + model.safetensors). */
@injectable()
export class SaveStage implements Stage<SaveStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(spec: SaveStageSpec): Promise<void> {
    const model = this.ctx.requireModel('save');
    if (spec.adapter) {
      const dir = this.ctx.path('adapter');
      const options = { baseModel: this.ctx.baseModel };
      if (loraLayers(model).length > 0) await saveAdapter(model, dir, options);
      else if (this.ctx.adapterSnapshot) await saveAdapterSites(this.ctx.adapterSnapshot.sites, dir, options);
      else throw new Error('save: no adapter to save (nothing was injected)');
      this.ctx.artifacts.adapter = 'adapter';
      this.progress.info(`save: adapter → ${dir}`);
    }
    if (spec.merged) {
      const dir = this.ctx.path('merged');
      const extra: JsonObject = this.ctx.vocabulary ? { vocabulary: this.ctx.vocabulary.toJSON() as JsonObject } : {};
      await saveCheckpoint(model, dir, { extra, merge: true });
      this.ctx.artifacts.merged = 'merged';
      this.progress.info(`save: merged model → ${dir}`);
    }
  }
}
