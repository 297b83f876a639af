import type { RunSummary } from './runner.js';

/** What an observer learns when a run folder opens. */
export interface ObservedRun {
  /** The run folder (absolute). */
  dir: string;
  pipeline: string;
  /** Continuing an unfinished run (its folder already holds earlier records). */
  resumed: boolean;
}

/** One run's listener: sees every metrics.jsonl record as it is written, then the final summary. */
export interface RunListener {
  /** A metrics.jsonl record (with its `time`), in the order written. Must not throw or block. */
  record(record: Readonly<Record<string, unknown>>): void;
  /** The run ended (completed, failed or interrupted); called before summary.json gets its final status. */
  finish(summary: RunSummary): Promise<void>;
}

/**
 * A hook for writers that watch runs (TensorBoard event files, report.html): given to `createRankwise({ observers })`,
 * opened for every run folder (grid cells and `from` runs included). Core knows nothing of what observers write; a
 * failing observer is reported and never fails the run.
 */
export interface RunObserver {
  readonly name: string;
  open(run: ObservedRun): Promise<RunListener | null>;
}
