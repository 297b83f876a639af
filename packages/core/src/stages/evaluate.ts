import { inject, injectable } from 'tsyringe';
import type { DatasetSource } from '../pipeline/datasets.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { EvaluateStageSpec } from '../pipeline/types.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { formatMetric } from '../progress/format-metric.js';
import { prepareTaskData } from '../tasks/prepare.js';
import { sampleText } from '../tasks/sample.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** Metrics of the current model on a split (classification: loss, accuracy). */
@injectable()
export class EvaluateStage implements Stage<EvaluateStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Datasets) private readonly datasets: DatasetSource,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(spec: EvaluateStageSpec, index: number): Promise<void> {
    const model = this.ctx.requireModel('evaluate');
    const data = await prepareTaskData(spec.data, this.ctx, this.datasets, 0);
    model.eval();
    const metrics = await data.evaluate(model, spec.batchSize ?? 500);
    const label = this.ctx.stageLabel(index);
    this.ctx.evaluations.push({ stage: label, index, data: data.name, metrics });
    this.ctx.metrics.write({ event: 'evaluate', stage: label, data: data.name, ...metrics });
    const record = this.ctx.evaluations[this.ctx.evaluations.length - 1];
    if (spec.samples) {
      const { prompt = '\n', length = 200, count = 1, temperature = 0.8, topK } = spec.samples;
      if (!this.ctx.vocabulary || model.contextLength === undefined) throw new Error('evaluate: samples need a language model with a vocabulary');
      record.samples = [];
      for (let k = 0; k < count; k++) {
        const seed = this.ctx.stageSeed(index) + k;
        record.samples.push(prompt + (await sampleText(model, this.ctx.vocabulary, { prompt, length, temperature, topK, seed, context: model.contextLength })));
      }
    }
    const shown = Object.entries(metrics).map(([k, v]) => `${k} ${formatMetric(k, v)}`);
    this.progress.info(`evaluate[${label}]: ${data.name}: ${shown.join(', ')}`);
    for (const sample of record.samples ?? []) this.progress.info(`evaluate[${label}]: sample:\n${indent(sample)}`);
  }
}

const indent = (text: string): string => text.split('\n').map((line) => `    │ ${line}`).join('\n');
