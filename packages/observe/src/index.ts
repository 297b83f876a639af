/**
 * @rankwise/observe: watching runs. TensorBoard event files and a report.html in every run folder (run observers
 * for `createRankwise({ observers })`), reports that overlay several runs, run comparison, and `rankwise ui`.
 */
export { maskedCrc32c, tfRecord } from './tensorboard/tfrecord.js';
export { eventBytes, type SummaryValue } from './tensorboard/event-proto.js';
export { EventFileWriter, eventFileName } from './tensorboard/event-writer.js';
export { TensorBoardMapper, TRAIN_TAGS, evaluationName, readMetricsLines, tensorBoardObserver } from './tensorboard/tensorboard-observer.js';
export { curvePoint, curvesOf, loadRun, type CurvePoint, type RunData } from './report/run-data.js';
export { curveSpecs, type CurveSpecs } from './report/curve-specs.js';
export { REPORT_FILE, evaluationsOf, reportObserver, runReportHtml, writeRunReport } from './report/run-report.js';

import type { RunObserver } from '@rankwise/core';
import { reportObserver } from './report/run-report.js';
import { tensorBoardObserver } from './tensorboard/tensorboard-observer.js';

/** The observers every CLI run gets: TensorBoard event files and report.html. */
export const RUN_OBSERVERS: readonly RunObserver[] = [tensorBoardObserver, reportObserver];
export { compareRuns, comparisonTable, flattenSettings, type RunComparison } from './compare/compare-runs.js';
export { startUi, uiApp, type UiOptions, type UiServer } from './ui/server.js';
export { safeResolve } from './ui/safe-path.js';
export { runRows, type RunRow } from './ui/run-index.js';
