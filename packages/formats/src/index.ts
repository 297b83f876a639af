/**
 * `@rankwise/formats`: File formats for rankwise: safetensors, PEFT adapter files and configs, Hugging Face model folders, TensorFlow.js models, GGUF models and adapters, checkpoints and atomic writes.
 * First written by the core split (commit d8fd200) from what the other packages import.
 */
export { toOriginalBase } from './adapter-conversion.js';
export { type AdapterSource, parseAdapterSpec } from './adapter-spec.js';
export { atomicDirectory, atomicWriteFile, atomicWriteFileSync, temporaryName } from './atomic-write.js';
export { peftTaskType, recordBaseModel } from './base-model.js';
export {
  type CheckpointConfig,
  loadCheckpoint,
  readCheckpointConfig,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from './checkpoint.js';
export { combineAdapterFolders } from './combine-adapters.js';
export { assertFiniteTensor, firstNonFinite } from './finite-values.js';
export { describeFsError, isFsError, readableFsError } from './fs-errors.js';
export {
  checkGgufAdapter,
  type GgufAdapterSite,
  ggufAdapterToPeft,
  hfModulePath,
  peftToGgufAdapter,
} from './gguf-adapter.js';
export {
  checkGgufModel,
  type GgufModelCheck,
  ggufUnsupported,
  loadGgufModel,
  saveGgufModel,
  type SaveGgufOptions,
} from './gguf-llama.js';
export {
  type HuggingFaceModelInfo,
  isHuggingFaceDir,
  loadHuggingFaceModel,
  readHuggingFaceConfig,
  saveHuggingFaceModel,
  type SaveHuggingFaceOptions,
} from './huggingface.js';
export { checkHuggingFaceDir } from './huggingface-check.js';
export { nonFiniteAsString } from './json-numbers.js';
export { decodeUtf8, MAX_JSON_DEPTH, parseJsonText } from './json-text.js';
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  type AdapterSaveOptions,
  type AdapterSite,
  type AdapterSnapshot,
  loadAdapter,
  LORA_WEIGHT,
  type NamedAdapterSites,
  planAdapter,
  type PlannedAdapterSite,
  readAdapter,
  saveAdapter,
  saveAdapterSites,
  saveNamedAdapters,
  snapshotAdapter,
  type StoredAdapterSite,
} from './peft-adapter.js';
export {
  buildPeftConfig,
  parsePeftConfig,
  type PeftLoraConfig,
  peftSiteSettings,
  peftTargetSites,
  type SiteSettings,
} from './peft-config.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  halfToFloat,
  MAX_HEADER_BYTES,
  type NamedFloat32,
  type SafetensorsContents,
  type SafetensorsDtype,
  type SafetensorsEntry,
  SafetensorsError,
  type SafetensorsHeader,
} from './safetensors.js';
export type { PendingTensor } from './safetensors-stream.js';
export { readSafetensorsFile, readSafetensorsHeaderFile, writeSafetensorsFile } from './tensor-file.js';
export { inspectTfjsModel, loadTfjsModel, TfjsModelError, type TfjsModelFiles } from './tfjs-model.js';
export { saveTfjsModel, tfjsFileSaver } from './tfjs-save.js';
