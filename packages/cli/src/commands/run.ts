import { PipelineValidationError, RunFailed, type Rankwise } from '@rankwise/core';
import { resolveResumeTarget, ResumeError } from '@rankwise/core/runs';
import { isFsError } from '@rankwise/formats';
import { resolve } from 'node:path';
import { checkOutDir } from '../out-dir.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { ParsedRunFlags } from '../options.js';
import { formatSummary } from '../report.js';
import { printIssues, validateFiles } from '../validate-files.js';
import { runGridCommand } from './run-grid.js';

/** Validates every file first (invalid ⇒ exit 2, nothing trained), then runs them in order. */
export async function runCommand(rankwise: Rankwise, files: string[], flags: ParsedRunFlags, signal: AbortSignal): Promise<ExitCode> {
  const { valid: validated, invalid } = await validateFiles(rankwise, files, flags.overrides);
  if (invalid > 0) return EXIT.invalid;
  if (flags.resume !== undefined && validated.length !== 1) {
    console.error(`✖ --resume: give exactly one pipeline file (found ${validated.length})`);
    return EXIT.invalid;
  }
  const outProblem = await checkOutDir(flags.out);
  if (outProblem) {
    console.error(`✖ --out ${outProblem}`);
    return EXIT.invalid;
  }
  for (const pipeline of validated) {
    if (pipeline.pipeline.grid) {
      const code = await runGridCommand(rankwise, pipeline, flags, signal);
      if (code !== EXIT.ok) return code;
      continue;
    }
    if (flags.queue) console.error(`note: --queue is for grids; ${pipeline.display} has no "grid" and runs here`);
    try {
      const resume = flags.resume === undefined ? undefined : await resolveResumeTarget(resolve(flags.out), pipeline.pipeline.name, flags.resume);
      const { summary } = await rankwise.run(pipeline, { out: flags.out, signal, force: flags.force, resume });
      console.log(formatSummary(summary));
    } catch (error) {
      if (error instanceof RunFailed) {
        console.error(formatSummary(error.summary));
        if (error.summary.status === 'interrupted') {
          console.error(`stopped by Ctrl-C; the partial run is in ${error.summary.runDir} (summary.json, metrics.jsonl); continue it with --resume latest`);
          return EXIT.interrupted;
        }
        const cause = error.cause;
        if (cause instanceof PipelineValidationError) {
          printIssues(cause.issues);
          return EXIT.invalid;
        }
        console.error(`✖ ${error.message}`);
        if (process.env.RANKWISE_DEBUG && cause instanceof Error) console.error(cause.stack);
        return EXIT.failed;
      }
      if (error instanceof ResumeError) {
        console.error(`✖ ${error.message}`);
        return EXIT.invalid;
      }
      if (isFsError(error)) {
        console.error(`✖ ${(error as Error).message.split('\n')[0]}`);
        return EXIT.failed;
      }
      throw error;
    }
  }
  return EXIT.ok;
}
