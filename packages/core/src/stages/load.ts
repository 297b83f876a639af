import { resolve } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { loadCheckpoint } from '../io/checkpoint.js';
import { loadAdapter } from '../io/peft-adapter.js';
import { createModel } from '../nn/architectures.js';
import type { DatasetSource } from '../pipeline/datasets.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { PipelineRunner } from '../pipeline/runner.js';
import type { LoadStageSpec } from '../pipeline/types.js';
import { parameterReport } from '../lora/parameter-report.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** Builds a zoo model from the seed, reads a checkpoint, or loads another pipeline's result (running it if stale). */
@injectable()
export class LoadStage implements Stage<LoadStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Runner) private readonly runner: PipelineRunner,
    @inject(TOKENS.Datasets) private readonly datasets: DatasetSource,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  /** A character vocabulary from the corpus, no larger than the model's vocabSize. */
  private async buildVocabulary(spec: LoadStageSpec): Promise<void> {
    const model = this.ctx.model!;
    const maxSize = (model.config as { vocabSize?: number }).vocabSize;
    const text = await this.datasets.corpusText(spec.vocabulary!, this.ctx.pipeline.dir);
    this.ctx.vocabulary = await this.datasets.buildVocabulary(text, maxSize);
  }

  async run(spec: LoadStageSpec, index: number): Promise<void> {
    const dir = this.ctx.pipeline.dir;
    if (spec.architecture !== undefined) {
      this.ctx.model = createModel(spec.architecture, spec.config ?? {}, this.ctx.seed);
      this.ctx.baseModel = `${spec.architecture} (built from its config, seed ${this.ctx.seed})`;
      if (spec.vocabulary) await this.buildVocabulary(spec);
    } else {
      let checkpointDir: string;
      if (spec.checkpoint !== undefined) {
        checkpointDir = resolve(dir, spec.checkpoint);
      } else {
        const dependency = this.ctx.pipeline.dependencies.get(index);
        if (!dependency) throw new Error(`load: the "from" pipeline of stage ${index} was not validated`);
        checkpointDir = await this.runner.ensureArtifact(dependency, this.ctx);
      }
      const { model, config } = await loadCheckpoint(checkpointDir);
      this.ctx.model = model;
      this.ctx.baseModel = checkpointDir;
      if (config.extra.vocabulary !== undefined) this.ctx.vocabulary = await this.datasets.vocabularyFromJSON(config.extra.vocabulary);
    }
    if (spec.adapter !== undefined) {
      const layers = await loadAdapter(this.ctx.model, resolve(dir, spec.adapter), this.ctx.stageSeed(index));
      this.progress.info(`load: adapter with ${layers.length} LoRA layers from ${spec.adapter}`);
    }
    const report = parameterReport(this.ctx.model);
    if (this.ctx.vocabulary) this.progress.info(`load: vocabulary of ${this.ctx.vocabulary.size} ids (id 0 = unknown)`);
    const origin = spec.architecture !== undefined ? this.ctx.baseModel : `${this.ctx.model.architecture} from ${this.ctx.baseModel}`;
    this.progress.info(`load: ${origin}; ${report.total.toLocaleString('en-US')} parameters`);
  }
}
