import type { BackendRequest, Pipeline, RunSummary } from '@rankwise/core';

/** Parent → worker: run one cell. */
export interface RunCellMessage {
  type: 'run';
  id: number;
  pipeline: Pipeline;
  /** Directory relative paths in the pipeline resolve from (the grid file's). */
  baseDir: string;
  runDir: string;
  outRoot: string;
  /** The parent's resolved backend (local grids), or a request a queue worker resolves itself. */
  backend: BackendRequest;
}

export type ParentMessage = RunCellMessage | { type: 'abort' } | { type: 'exit' };

/** Worker → parent. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; summary: RunSummary }
  | { type: 'failed'; id: number; message: string; interrupted: boolean };
