import { relative } from 'node:path';
import type { Rankwise, ValidatedPipeline } from '@rankwise/core';
import { formatMetric } from '@rankwise/core/runs';
import { FULL_FINE_TUNING } from '@rankwise/grid';
import { GridInterrupted, runGrid } from '@rankwise/grid';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { ParsedRunFlags } from '../options.js';

/** Runs a grid pipeline and prints its table; failed cells ⇒ exit 1, Ctrl-C ⇒ 130 (finished cells stay cached). */
export async function runGridCommand(rankwise: Rankwise, pipeline: ValidatedPipeline, flags: ParsedRunFlags, signal: AbortSignal): Promise<ExitCode> {
  try {
    const { result, gridDir, failed } = await runGrid(rankwise, pipeline, {
      out: flags.out,
      signal,
      force: flags.force,
      workers: flags.workers,
      backend: flags.backend,
      queue: flags.queue,
    });
    const metric = result.metric;
    console.log(
      `✔ grid ${result.pipeline}: ${result.cells.length} cells (${result.cells.filter((c) => c.cached).length} reused) → ${relative(process.cwd(), gridDir)}/report.html`,
    );
    const variants: Array<string | null> = result.variants?.length ? result.variants : [null];
    for (const placement of [...result.placements, FULL_FINE_TUNING]) {
      for (const variant of placement === FULL_FINE_TUNING ? [null] : variants) {
        const cells = result.cells.filter((c) => c.placement === placement && (variant === null || c.variant === variant));
        const row = cells.map((c) => `${c.rank === null ? 'full' : `r${c.rank}`} ${formatMetric(metric, c.metrics[metric] ?? NaN)}`);
        const name = variant === null ? placement : `${placement} · ${variant}`;
        if (row.length > 0) console.log(`  ${name.padEnd(18)} ${row.join('  ')}`);
      }
    }
    for (const f of failed) console.error(`✖ cell ${f.cell.plan.key} failed: ${f.error}`);
    return failed.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    if (error instanceof GridInterrupted) {
      console.error(`stopped by Ctrl-C: ${error.message}`);
      return EXIT.interrupted;
    }
    throw error;
  }
}
