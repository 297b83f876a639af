/** 0 ok, 1 run failed, 2 invalid input (nothing was loaded or trained), 130 interrupted (Ctrl-C). */
export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
