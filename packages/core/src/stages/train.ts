import { inject, injectable } from 'tsyringe';
import { activeBackend } from '../backend/resolve.js';
import { parameterReport } from '../lora/parameter-report.js';
import type { DatasetSource } from '../pipeline/datasets.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { TrainStageSpec } from '../pipeline/types.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { prepareTaskData } from '../tasks/prepare.js';
import { TOKENS } from '../tokens.js';
import { trainLoop } from '../train/loop.js';
import { createOptimizer } from '../train/optimizer.js';
import type { Stage } from './stage.js';

/** Trains exactly the trainable parameters (A and B after freeze + inject; everything for full fine-tuning). */
@injectable()
export class TrainStage implements Stage<TrainStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Datasets) private readonly datasets: DatasetSource,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(spec: TrainStageSpec, index: number): Promise<void> {
    const model = this.ctx.requireModel('train');
    const data = await prepareTaskData(spec.data, this.ctx, this.datasets, this.ctx.stageSeed(index));
    const evalData = spec.evalData ? await prepareTaskData(spec.evalData, this.ctx, this.datasets, 0) : undefined;
    const batchSize = spec.batchSize ?? 64;
    const steps = spec.steps ?? Math.ceil(((spec.epochs ?? 1) * data.size) / batchSize);
    const variables = model.trainableParameters();
    const report = parameterReport(model);
    const optimizer = createOptimizer(spec.optimizer, activeBackend()?.createAdam);
    const label = this.ctx.stageLabel(index);
    this.progress.info(`train: ${steps} steps of ${batchSize} on ${data.name} (${data.size.toLocaleString('en-US')}), ${spec.optimizer.name} lr ${spec.optimizer.lr}; ${report.text}`);
    try {
      const result = await trainLoop({
        model,
        data,
        variables,
        optimizer,
        steps,
        batchSize,
        lr: spec.optimizer.lr,
        schedule: spec.schedule,
        clipNorm: spec.clipNorm,
        logEvery: Math.min(spec.logEvery ?? 25, steps),
        evalEvery: spec.evalEvery,
        evalData,
        signal: this.ctx.signal,
        progress: this.progress.task(`train[${label}]`, steps),
        onLog: (record) => this.ctx.metrics.write({ event: 'train', stage: label, ...record }),
        onEval: (step, metrics) => {
          this.ctx.metrics.write({ event: 'eval', stage: label, step, data: evalData?.name, ...metrics });
          this.progress.info(`train: step ${step} ${Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}`);
        },
      });
      this.ctx.trainings.push({
        stage: label,
        index,
        steps: result.steps,
        durationMs: result.durationMs,
        stepsPerSec: result.stepsPerSec,
        finalLoss: result.finalLoss,
        trainableParams: report.trainable,
        totalParams: report.total,
        parameterReport: report.text,
        optimizerStateBytes: optimizer.stateBytes(),
      });
      this.progress.info(`train: done, loss ${result.finalLoss.toFixed(4)}, ${result.stepsPerSec.toFixed(1)} steps/s, ${(result.durationMs / 1000).toFixed(1)} s`);
    } finally {
      optimizer.optimizer.dispose();
    }
  }
}
