import { formatIssue, PipelineValidationError, type Override, type Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** Validates each file; prints ✓ or one line per issue. Exit 2 when any file is invalid. */
export async function validateCommand(rankwise: Rankwise, files: string[], overrides: Override[] = []): Promise<ExitCode> {
  let invalid = 0;
  for (const file of files) {
    try {
      const validated = await rankwise.validateFile(file, overrides);
      const deps = [...validated.dependencies.values()].map((d) => d.display);
      console.log(`✓ ${file} (${validated.pipeline.stages.length} stages${deps.length ? `; from ${deps.join(', ')}` : ''})`);
    } catch (error) {
      if (!(error instanceof PipelineValidationError)) throw error;
      invalid++;
      for (const issue of error.issues) console.error(`✖ ${formatIssue(issue)}`);
    }
  }
  return invalid > 0 ? EXIT.invalid : EXIT.ok;
}
