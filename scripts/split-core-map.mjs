// The planned split of @rankwise/core by concern, shared by scripts/split-core.mjs (which performs it),
// scripts/core-deps.mjs (which reports the arrows) and test/architecture/package-layers.test.ts (which guards them,
// before the split by folder of packages/core/src, after it by package).
//
// Arrows point one way, lowest first: models ← lora ← formats ← core.
//   @rankwise/models   the nn modules (Module, Linear, attention, …), the architectures and model families, sites, seeded
//                      random streams, quantized weight formats (quant/), the tfjs-free structural types plugins see
//                      (types/): what a model is, with no idea of adapters or files.
//   @rankwise/lora     LoRA layers, init, inject, merge, combine: adapters over a models tree, with no idea of files.
//   @rankwise/formats  the file formats: safetensors, PEFT adapter files, Hugging Face folders, TensorFlow.js models,
//                      GGUF models/adapters (over @rankwise/gguf), checkpoints, atomic writes.
//   @rankwise/core     contracts, the pipeline, stages, training, tasks, datasets glue, backend selection, plugins.

/** Package names, lowest layer first. */
export const LAYERS = ['models', 'lora', 'formats', 'core'];

/** What moves where: a folder or a file stem of packages/core/src (relative) → the folder/file in its new package. */
export const MOVES = [
  { from: 'nn', pkg: 'models', to: '' },
  { from: 'random', pkg: 'models', to: 'random' },
  { from: 'quant', pkg: 'models', to: 'quant' },
  { from: 'types', pkg: 'models', to: 'types' },
  { from: 'lora', pkg: 'lora', to: '' },
  { from: 'io', pkg: 'formats', to: '' },
];

/** Package a file of packages/core/src (path relative to it, e.g. `nn/llama.ts`) belongs to after the split. */
export function packageOf(relPath) {
  for (const m of MOVES) {
    if (relPath === m.from || relPath.startsWith(`${m.from}/`) || relPath.startsWith(`${m.from}.`)) return m.pkg;
  }
  return 'core';
}
