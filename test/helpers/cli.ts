import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnSyncReturns } from 'node:child_process';

/** The CLI from source, as `pnpm rankwise` runs it. */
const CLI = ['--conditions=source', '--import', 'tsx', 'packages/cli/src/main.ts'];

const cliEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, FORCE_COLOR: '0', ...env });

/** Runs `rankwise <args>` to completion (with `input` on stdin); stdout and stderr as text. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: cliEnv(env), ...(input !== undefined ? { input } : {}) });
}

/** Starts `rankwise <args>` (for tests that signal or watch it while it runs). */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...CLI, ...args], { env: cliEnv(env) });
}
