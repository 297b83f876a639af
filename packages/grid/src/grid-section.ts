import type { PipelineSection } from '@rankwise/core';
import { checkGrid } from './grid-check.js';
import { GridSchema, type GridSpec } from './grid-schema.js';

declare module '@rankwise/core/plugin' {
  interface PipelineSections {
    /** Expressivity vs rank: the stages once per (rank, placement, variant) cell (`@rankwise/grid`). */
    grid?: GridSpec;
  }
}

/**
 * The `grid` key of pipeline files: its schema (written into pipeline.schema.json) and its check (cells, ranks and
 * placements against the model). Give it to `createRankwise({ sections: [gridSection] })`; the CLI does.
 */
export const gridSection: PipelineSection = { key: 'grid', schema: GridSchema, check: checkGrid };
