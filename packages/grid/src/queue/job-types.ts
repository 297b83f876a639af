import type { BackendRequest, Pipeline, RunSummary } from '@rankwise/core';

/** A file by content: its path (relative, "/"-separated), size and sha256. */
export interface FileDigest {
  path: string;
  size: number;
  sha256: string;
}

/** A checkpoint directory published to the shared store under bases/<id>, every file's hash known. */
export interface StoredCheckpoint {
  /** Content hash over the files' digests: the same checkpoint always has the same id. */
  id: string;
  /** Relative to the store root. */
  dir: string;
  files: FileDigest[];
}

/** What a queued cell carries: everything a worker on another machine needs besides the shared store. */
export interface CellJobData {
  format: 1;
  /** The grid pipeline's name and the cell's key in it (for logs). */
  grid: string;
  key: string;
  /** The cell's content hash (its pipeline and everything it loads): the job id. */
  hash: string;
  /** The cell pipeline; the load stages named in `checkpoints` load the published copy instead of `from`/`checkpoint`. */
  pipeline: Pipeline;
  /** The grid file's directory: relative paths (data files, adapters) resolve from it, as in a local run. */
  baseDir: string;
  checkpoints: Array<{ stage: number; checkpoint: StoredCheckpoint }>;
  /** The coordinator's store root; a worker's --store replaces it (the same share, mounted elsewhere). */
  store: string;
  backend: BackendRequest;
}

/** One output file of a cell: inline (base64) when small, else a content-addressed file in the store. */
export interface CellFile extends FileDigest {
  base64?: string;
  /** Relative to the store root. */
  stored?: string;
}

/** What a finished cell sends back in its job's return value. */
export interface CellJobResult {
  format: 1;
  summary: RunSummary;
  /** Every file of the cell's run directory but summary.json. */
  files: CellFile[];
  worker: { name: string; host: string; pid: number };
  /** Wall-clock times on the worker (ms since the epoch) around the cell's run. */
  startedAt: number;
  finishedAt: number;
}
