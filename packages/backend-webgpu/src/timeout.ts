export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects with `TimeoutError` after `ms`; the timer is cleared and never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}

/** `RANKWISE_WEBGPU_TIMEOUT_MS` (default 20 s): the limit for each adapter probe, adapter request and device creation. */
export function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.RANKWISE_WEBGPU_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : 20_000;
}
