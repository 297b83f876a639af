export { runGrid, type GridRunOptions, type GridRunResult } from './run-grid.js';
export { planCells, type PlannedCell } from './cells.js';
export { runCells, GridInterrupted, type CellOutcome } from './run-cells.js';
export { analyseGrid, baseWeightsFile } from './analyses.js';
export { gridResult } from './result.js';
