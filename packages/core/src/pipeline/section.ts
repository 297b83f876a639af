import type { PipelineCheck } from './validate.js';

/**
 * A top-level key of pipeline files that another package owns (the grid's `grid`): its JSON Schema (TypeBox; written
 * into the pipeline schema and checked by it) and an optional whole-pipeline check run after the stages' own.
 * Core knows no section by name; `createRankwise({ sections })` and `buildPipelineSchema({ sections })` take them.
 * Their TypeScript side is declaration merging into `PipelineSections` (see contracts/stage.ts).
 */
export interface PipelineSection {
  /** The top-level key (`grid`). */
  key: string;
  /** JSON Schema (2020-12) of the key's value, with a description. */
  schema: Record<string, unknown>;
  check?: PipelineCheck;
}
