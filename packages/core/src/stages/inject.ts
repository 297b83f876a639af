import { inject, injectable } from 'tsyringe';
import { injectLora } from '../lora/inject.js';
import { parameterReport } from '../lora/parameter-report.js';
import { listSites } from '../nn/site.js';
import { PipelineValidationError, type ValidationIssue } from '../pipeline/issues.js';
import { selectPlacement } from '../pipeline/placement-check.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { InjectStageSpec } from '../pipeline/types.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { TOKENS } from '../tokens.js';
import type { Stage } from './stage.js';

/** Asks the placement plugin which sites to adapt, then wraps each in a LoraLinear (B = 0: outputs unchanged). */
@injectable()
export class InjectStage implements Stage<InjectStageSpec> {
  constructor(
    @inject(TOKENS.Run) private readonly ctx: RunContext,
    @inject(TOKENS.Plugins) private readonly plugins: PluginRegistry,
    @inject(TOKENS.Progress) private readonly progress: ProgressReporter,
  ) {}

  async run(spec: InjectStageSpec, index: number): Promise<void> {
    const model = this.ctx.requireModel('inject');
    const issues: ValidationIssue[] = [];
    const chosen = await selectPlacement(spec.placement, listSites(model), `/stages/${index}/placement`, this.ctx.pipeline.display, this.plugins, issues);
    if (!chosen) throw new PipelineValidationError(issues);
    const alpha = spec.alpha ?? spec.r;
    const targets = chosen.map((c) => ({
      path: c.path,
      r: c.r ?? spec.r,
      alpha: c.alpha ?? alpha,
      rslora: spec.rslora ?? false,
      dropout: spec.dropout ?? 0,
    }));
    injectLora(model, targets, this.ctx.stageSeed(index));
    const ranks = targets.map((t) => `${t.path} r=${t.r} α=${t.alpha}`).join(', ');
    this.progress.info(`inject: ${targets.length} sites (${ranks})`);
    this.progress.info(`inject: ${parameterReport(model).text}`);
  }
}
