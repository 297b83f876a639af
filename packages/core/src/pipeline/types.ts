import type { BackendRequest } from '../backend/resolve.js';
import type { JsonObject } from '../nn/model.js';

/** TypeScript view of pipeline.schema.json (the schema is the source of truth; tests keep them in step). */
export interface Pipeline {
  $schema?: string;
  name: string;
  description?: string;
  seed?: number;
  backend?: BackendRequest;
  stages: StageSpec[];
  grid?: GridSpec;
}

export type DigitTransformName =
  | 'none' | 'rotate90' | 'rotate180' | 'rotate270' | 'flip-horizontal' | 'flip-vertical' | 'invert' | 'permute-pixels';

export interface DigitsDataSpec {
  dataset: 'digits';
  split: 'train' | 'test';
  transform?: DigitTransformName;
  testFraction?: number;
  limit?: number;
  splitSeed?: number;
}

export interface TextDataSpec {
  dataset: 'moby-dick' | 'sotu' | 'text-file';
  split: 'train' | 'validation';
  path?: string;
  president?: string | string[];
  party?: string | string[];
  years?: [number, number];
  validationFraction?: number;
  blockSize?: number;
  maxChars?: number;
  maxWindows?: number;
  splitSeed?: number;
}

export type DataSpec = DigitsDataSpec | TextDataSpec;

interface StageBase {
  label?: string;
}

export interface LoadStageSpec extends StageBase {
  stage: 'load';
  architecture?: string;
  config?: JsonObject;
  checkpoint?: string;
  from?: string;
  adapter?: string;
  vocabulary?: CorpusSpec;
}

/** A corpus without a split (for building a vocabulary). */
export type CorpusSpec = Omit<TextDataSpec, 'split' | 'validationFraction' | 'blockSize' | 'maxWindows' | 'splitSeed'>;

export interface FreezeStageSpec extends StageBase {
  stage: 'freeze';
}

export interface UnfreezeStageSpec extends StageBase {
  stage: 'unfreeze';
}

export interface PlacementSpec {
  plugin: string;
  options?: JsonObject;
}

export interface InjectStageSpec extends StageBase {
  stage: 'inject';
  r: number;
  alpha?: number;
  dropout?: number;
  rslora?: boolean;
  placement: PlacementSpec;
}

export interface OptimizerStageSpec {
  name: 'adam' | 'adamw' | 'sgd';
  lr: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  momentum?: number;
}

export interface ScheduleSpec {
  type: 'constant' | 'cosine';
  warmupSteps?: number;
  minLr?: number;
}

export interface TrainStageSpec extends StageBase {
  stage: 'train';
  data: DataSpec;
  steps?: number;
  epochs?: number;
  batchSize?: number;
  optimizer: OptimizerStageSpec;
  schedule?: ScheduleSpec;
  clipNorm?: number;
  logEvery?: number;
  evalEvery?: number;
  evalData?: DataSpec;
}

export interface SamplesSpec {
  prompt?: string;
  length?: number;
  count?: number;
  temperature?: number;
  topK?: number;
}

export interface EvaluateStageSpec extends StageBase {
  stage: 'evaluate';
  data: DataSpec;
  batchSize?: number;
  samples?: SamplesSpec;
}

export interface MergeStageSpec extends StageBase {
  stage: 'merge';
}

export interface SaveStageSpec extends StageBase {
  stage: 'save';
  adapter?: boolean;
  merged?: boolean;
}

export type StageSpec =
  | LoadStageSpec | FreezeStageSpec | UnfreezeStageSpec | InjectStageSpec | TrainStageSpec
  | EvaluateStageSpec | MergeStageSpec | SaveStageSpec;

export type StageName = StageSpec['stage'];
export const STAGE_NAMES: readonly StageName[] = ['load', 'freeze', 'unfreeze', 'inject', 'train', 'evaluate', 'merge', 'save'];

export interface GridPlacementSpec extends PlacementSpec {
  label: string;
}

export interface GridSpec {
  rank: number[];
  placement: GridPlacementSpec[];
  alpha?: number | string;
  fullFineTune?: boolean | { lr: number };
  metric?: string;
  evaluation?: string;
}
