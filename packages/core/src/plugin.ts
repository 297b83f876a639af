/**
 * `@rankwise/core/plugin`: everything a placement plugin or a stage package needs, and nothing that loads
 * TensorFlow.js, ajv or tsyringe at run time (types are erased; the values here are plain functions and classes).
 * Its types stand alone too: the model, its tensors and the backend are structural views (types/tensors.ts), so a
 * package compiles under a strict tsconfig without `skipLibCheck` (test/types/plugin-packages.test.ts).
 * Errors are recognised by shape (`name` and fields), so a plugin that resolves its own copy of core still works.
 */

// placement plugins
export { definePlacementPlugin, PlacementError, isPlacementError, type PlacementPlugin, type PlacementChoice } from './contracts/placement.js';
export type { Site } from '@rankwise/models/types/site';
export { escapePointer } from './contracts/pointer.js';

// stages
export { defineStage, isStageDefinition } from './contracts/stage-view.js';
export type {
  AdapterService,
  AdapterSiteLike,
  AdapterSnapshotLike,
  AnyStageDefinition,
  Capability,
  DataService,
  DataSummary,
  DependencyInfo,
  EvaluationRecord,
  MetricsSink,
  ModelService,
  PipelineSections,
  PipelineService,
  PlacementService,
  PlacementSpec,
  RunDirectory,
  RunRecords,
  StageCheckContext,
  StageContext,
  StageDefinition,
  StagePackages,
  TaskDataLike,
  TrainingRecord,
  VocabularyService,
} from './contracts/stage-view.js';
// the model and the tensors a stage may touch (structural views of core's TensorFlow.js objects) and their readers
export { isLoraModule, loraModules, readFloat32, readLoraDelta, readLoraFactors } from '@rankwise/models/types/tensors';
export type {
  HostTensor,
  LoraFactorsLike,
  LoraModuleLike,
  LoraSiteValues,
  ModelLike,
  ModuleLike,
  OwnedTensorLike,
  ParameterLike,
  TensorData,
  TensorLike,
} from '@rankwise/models/types/tensors';
export type { BackendInfo } from '@rankwise/models/types/backend';
export type { CorpusSpec, DataSpec, DigitsDataSpec, TextDataSpec } from './contracts/data-schema.js';
export type { ClassificationArrays, DatasetSource, TextArrays, Vocabulary } from './contracts/datasets.js';
export type { ProgressReporter, ProgressTask, ProgressFields } from './progress/reporter.js';
export type { JsonObject, JsonValue, ModelTask } from '@rankwise/models/types/json';
export type { ModelDescription } from '@rankwise/models/description';

// datasets
export { defineDataset, isDatasetDefinition, DataError, isDataError, formatDataLocation, IGNORE_INDEX, RECORD_FORMATS, splitOf } from './contracts/dataset.js';
export type {
  AnyDatasetDefinition,
  ClassificationDataset,
  CorpusDataset,
  DataLocation,
  DataRecord,
  DatasetCheckContext,
  DatasetDefinition,
  DatasetFacts,
  DatasetKind,
  DatasetOpenContext,
  OpenedDataset,
  RecordFormat,
  RecordReadOptions,
  SequenceDataset,
  SequenceStats,
  SplitName,
  TokenSequence,
} from './contracts/dataset.js';
export type { ImageFolderOptions } from './contracts/datasets.js';

// errors
export { RunInterrupted, isRunInterrupted, throwIfAborted } from './contracts/abort.js';
export { ConfigError, isConfigError } from '@rankwise/models/description';
