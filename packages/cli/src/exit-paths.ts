import { finishActiveRunsSync } from '@rankwise/core/runs';
import { EXIT } from './exit-codes.js';

/**
 * Every way the process can end records how its runs ended: the first Ctrl-C or SIGTERM stops after the current
 * step (the runner writes the summary); a second one, or an uncaught error, writes `interrupted` / `failed` into
 * every active run's summary.json synchronously, then exits. (SIGKILL cannot be caught: `rankwise runs` reports
 * such a run as abandoned because its process is gone.)
 */
export function installExitPaths(controller: AbortController): void {
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      console.error(`\nsecond ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: exiting now`);
      finishActiveRunsSync('interrupted', `interrupted: second ${signal} (exited at once)`);
      process.exit(EXIT.interrupted);
    }
    console.error(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after the current step (press Ctrl-C again to quit at once)…`);
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  const crash = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    finishActiveRunsSync('failed', `uncaught error: ${message}`);
    console.error(`✖ ${message}`);
    if (process.env.RANKWISE_DEBUG && error instanceof Error) console.error(error.stack);
    process.exit(EXIT.failed);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
