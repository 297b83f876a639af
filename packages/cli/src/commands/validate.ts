import type { Override, Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { validateFiles } from '../validate-files.js';

/** Validates each file; prints ✓ or one line per issue. Exit 2 when any file is invalid. */
export async function validateCommand(rankwise: Rankwise, files: string[], overrides: Override[] = []): Promise<ExitCode> {
  const { invalid } = await validateFiles(rankwise, files, overrides, (file, validated) => {
    const deps = [...validated.dependencies.values()].map((d) => d.display);
    console.log(`✓ ${file} (${validated.pipeline.stages.length} stages${deps.length ? `; from ${deps.join(', ')}` : ''})`);
  });
  return invalid > 0 ? EXIT.invalid : EXIT.ok;
}
