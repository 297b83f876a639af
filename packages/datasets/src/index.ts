export { SplitMix32, deriveSeed } from './random.js';
export { ceilFraction } from './ceil-fraction.js';

export { classCounts, checkClassificationData, type ClassificationData } from './classification.js';
export { describeDataset } from './describe.js';

export { loadDigits, type DigitsOptions } from './digits/load-digits.js';
export {
  DIGIT_TRANSFORMS,
  PERMUTE_PIXELS_SEED,
  pixelPermutation,
  transformImages,
  type DigitTransform,
} from './digits/transforms.js';
export { DIGIT_CLASSES, DIGIT_PIXELS, DIGIT_SIDE } from './digits/mnist-files.js';

export { loadText, TEXT_CORPORA, type TextSource, type TextCorpus } from './text/load-text.js';
export { sotuPresidents, sotuParties, type SotuFilter } from './text/sotu.js';
export { CharVocab, UNKNOWN_TOKEN, REPLACEMENT_CHARACTER, type CharVocabJson } from './text/char-vocab.js';
export {
  splitTextBlocks,
  DEFAULT_BLOCK_SIZE,
  type TextSplitOptions,
  type TextSplit,
} from './text/split-text-blocks.js';
export { createDatasetSource } from './dataset-source.js';
export { readRecords } from './files/read-records.js';
export { recordFormatOf } from './files/record-format.js';
export { loadImageFolder, listImageFolder } from './files/image-folder.js';
export { splitOf } from './files/split-of.js';
export { HfTokenizer, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, type HfTokenizerJson } from './text/hf-tokenizer.js';
