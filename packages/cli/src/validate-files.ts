import { formatIssue, PipelineValidationError, type Override, type Rankwise, type ValidatedPipeline, type ValidationIssue } from '@rankwise/core';

/** One `✖ file: pointer: message` line per issue, on stderr. */
export function printIssues(issues: readonly ValidationIssue[]): void {
  for (const issue of issues) console.error(`✖ ${formatIssue(issue)}`);
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
      if (!(error instanceof PipelineValidationError)) throw error;
      invalid++;
      printIssues(error.issues);
    }
  }
  return { valid, invalid };
}
