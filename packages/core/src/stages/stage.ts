import type { StageSpec } from '../pipeline/types.js';

/** One step of a pipeline. Classes get the run's context and services through `@inject(TOKENS…)`. */
export interface Stage<S extends StageSpec = StageSpec> {
  run(spec: S, index: number): Promise<void>;
}

/** A run stopped by its AbortSignal (Ctrl-C). */
export class RunInterrupted extends Error {
  constructor(readonly where: string) {
    super(`interrupted during ${where}`);
    this.name = 'RunInterrupted';
  }
}

export function throwIfAborted(signal: AbortSignal, where: string): void {
  if (signal.aborted) throw new RunInterrupted(where);
}
