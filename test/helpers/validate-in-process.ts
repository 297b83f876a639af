import { vi } from 'vitest';
import { main } from '@rankwise/cli';

/** `rankwise validate <file>` in this process: the exit code and the error lines (console output captured). */
export async function validateInProcess(file: string): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => errors.push(...String(line).split('\n')));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await main(['validate', file]), errors };
  } finally {
    vi.restoreAllMocks();
  }
}
