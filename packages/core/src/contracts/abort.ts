/** A run stopped by its AbortSignal (Ctrl-C). Recognised by `name`, so a second copy of core still matches. */
export class RunInterrupted extends Error {
  constructor(readonly where: string) {
    super(`interrupted during ${where}`);
    this.name = 'RunInterrupted';
  }
}

export function isRunInterrupted(error: unknown): error is RunInterrupted {
  return error instanceof Error && error.name === 'RunInterrupted';
}

export function throwIfAborted(signal: AbortSignal, where: string): void {
  if (signal.aborted) throw new RunInterrupted(where);
}
