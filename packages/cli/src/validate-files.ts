import { capIssues, formatIssue, PipelineValidationError, type Override, type Rankwise, type ValidatedPipeline, type ValidationIssue } from '@rankwise/core';

/** One `✖ file: pointer: message` line per issue, on stderr: at most 50 per file, then how many more. */
export function printIssues(issues: readonly ValidationIssue[]): void {
  for (const issue of capIssues(issues)) console.error(`✖ ${formatIssue(issue)}`);
}

/**
 * Validates every file (all of them, so one call reports every problem), printing each invalid file's issues
 * as it goes and calling `onValid` for each valid one. Returns the valid pipelines in order and how many failed.
 */
export async function validateFiles(
  rankwise: Rankwise,
  files: readonly string[],
  overrides: Override[],
  onValid: (file: string, validated: ValidatedPipeline) => void = () => {},
): Promise<{ valid: ValidatedPipeline[]; invalid: number }> {
  const valid: ValidatedPipeline[] = [];
  let invalid = 0;
  for (const file of files) {
    try {
      const validated = await rankwise.validateFile(file, overrides);
      valid.push(validated);
      onValid(file, validated);
    } catch (error) {
      invalid++;
      // Anything unforeseen is still one line about this file, and the other files are still validated.
      if (error instanceof PipelineValidationError) printIssues(error.issues);
      else printIssues([{ file, pointer: '', message: `cannot validate: ${String((error as Error)?.message ?? error).split('\n')[0]}` }]);
    }
  }
  return { valid, invalid };
}
