import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnCli } from './cli.js';

/** A running `rankwise …` whose output a test can wait on. */
export interface WatchedProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (now or later); rejects after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export function watchCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): WatchedProcess {
  const child = spawnCli(args, env);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      poke();
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in:\n${out}\n${err}`)), timeoutMs);
        const finish = (error: Error | null, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        const check = () => {
          const match = out.match(pattern);
          if (match) finish(null, match);
          else if (done) finish(new Error(`exited before ${pattern} appeared:\n${out}\n${err}`));
        };
        waiters.add(check);
        check();
      }),
  };
}
