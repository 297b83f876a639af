export { runGrid, type GridRunOptions, type GridRunResult } from './run-grid.js';
export { planCells, type PlannedCell } from './cells.js';
export { runCells, GridInterrupted, type CellOutcome } from './run-cells.js';
export { analyseGrid, baseWeightsFile } from './analyses.js';
export { gridResult } from './result.js';
export { expandGrid, gridAlpha, FULL_FINE_TUNING, type GridCellPlan } from './grid-expand.js';
export { checkGrid, TASK_METRICS } from './grid-check.js';
