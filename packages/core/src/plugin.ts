/**
 * `@rankwise/core/plugin`: everything a placement plugin or a stage package needs, and nothing that loads
 * TensorFlow.js, ajv or tsyringe at run time (types are erased; the values here are plain functions and classes).
 * Errors are recognised by shape (`name` and fields), so a plugin that resolves its own copy of core still works.
 */

// placement plugins
export { definePlacementPlugin, PlacementError, isPlacementError, type PlacementPlugin, type PlacementChoice } from './contracts/placement.js';
export type { Site } from './nn/site.js';
export { escapePointer } from './contracts/pointer.js';

// stages
export { defineStage, isStageDefinition } from './contracts/stage.js';
export type {
  AdapterService, AnyStageDefinition, Capability, DataService, DependencyInfo, EvaluationRecord, MetricsSink, ModelService, PipelineService,
  PipelineSections, PlacementService, PlacementSpec, RunDirectory, RunRecords, StageCheckContext, StageContext, StageDefinition, StagePackages, TrainingRecord, VocabularyService,
} from './contracts/stage.js';
export type { CorpusSpec, DataSpec, DigitsDataSpec, TextDataSpec } from './contracts/data-schema.js';
export type { ClassificationArrays, DatasetSource, TextArrays, Vocabulary } from './contracts/datasets.js';
export type { TaskData } from './contracts/task-data.js';
export type { ProgressReporter, ProgressTask, ProgressFields } from './progress/reporter.js';
export type { Model, JsonObject, JsonValue, ModelTask } from './nn/model.js';
export type { ModelDescription } from './nn/description.js';
export type { ResolvedBackend } from './backend/resolve.js';

// datasets
export { defineDataset, isDatasetDefinition, DataError, isDataError, formatDataLocation, IGNORE_INDEX, RECORD_FORMATS, splitOf } from './contracts/dataset.js';
export type {
  AnyDatasetDefinition, ClassificationDataset, CorpusDataset, DataLocation, DataRecord, DatasetCheckContext, DatasetDefinition, DatasetFacts, DatasetKind,
  DatasetOpenContext, OpenedDataset, RecordFormat, RecordReadOptions, SequenceDataset, SequenceStats, SplitName, TokenSequence,
} from './contracts/dataset.js';
export type { ImageFolderOptions } from './contracts/datasets.js';

// errors
export { RunInterrupted, isRunInterrupted, throwIfAborted } from './contracts/abort.js';
export { ConfigError, isConfigError } from './nn/description.js';
