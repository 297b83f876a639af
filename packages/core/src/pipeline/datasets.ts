import { defaultModuleLoader, type ModuleLoader } from '../backend/module-loader.js';
import type { DatasetSource } from '../contracts/datasets.js';

/** Loads `@rankwise/datasets` on first use, so core itself carries no data. */
export function lazyDatasetSource(loader: ModuleLoader = defaultModuleLoader): DatasetSource {
  let source: Promise<DatasetSource> | null = null;
  const get = (): Promise<DatasetSource> => {
    source ??= loader('@rankwise/datasets').then(
      (m) => {
        const create = (m as { createDatasetSource?: () => DatasetSource }).createDatasetSource;
        if (typeof create !== 'function') throw new Error('@rankwise/datasets does not export createDatasetSource()');
        return create();
      },
      (error: unknown) => {
        throw new Error(`pipelines need data from @rankwise/datasets, which failed to load: ${(error as Error).message}`);
      },
    );
    return source;
  };
  return {
    classification: async (spec) => (await get()).classification(spec),
    corpusText: async (spec, dir) => (await get()).corpusText(spec, dir),
    text: async (spec, vocab, dir) => (await get()).text(spec, vocab, dir),
    buildVocabulary: async (text, maxSize) => (await get()).buildVocabulary(text, maxSize),
    vocabularyFromJSON: async (json) => (await get()).vocabularyFromJSON(json),
    tokenizer: async (dir) => {
      const source = await get();
      if (!source.tokenizer) throw new Error('this version of @rankwise/datasets reads no tokenizer.json');
      return source.tokenizer(dir);
    },
    async *records(path, options) {
      const source = await get();
      if (!source.records) throw new Error('this version of @rankwise/datasets reads no data files');
      yield* source.records(path, options);
    },
    imageFolder: async (dir, options) => {
      const source = await get();
      if (!source.imageFolder) throw new Error('this version of @rankwise/datasets reads no image folders');
      return source.imageFolder(dir, options);
    },
  };
}
