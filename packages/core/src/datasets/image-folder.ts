import { resolve } from 'node:path';
import { DataError, defineDataset } from '../contracts/dataset.js';
import { ImageFolderDataSchema, type ImageFolderDataSpec } from '../contracts/data-schema.js';
import { MAX_LISTED_PROBLEMS } from './compat.js';

/** The image shape a folder is decoded to: the option, else the model's input shape ([h, w] → [h, w, 1]). */
export function imageShape(option: ImageFolderDataSpec['shape'], modelShape: readonly number[] | null | undefined): [number, number, number] | null {
  if (option) return option;
  if (!modelShape) return null;
  if (modelShape.length === 3 && [1, 3, 4].includes(modelShape[2])) return [modelShape[0], modelShape[1], modelShape[2]];
  if (modelShape.length === 2) return [modelShape[0], modelShape[1], 1];
  return null;
}

const NO_SHAPE = 'the image shape is unknown: the model has no [height, width, channels] input; set "shape"';

/** Images in one sub-folder per class, decoded with sharp. */
export const imageFolder = defineDataset<ImageFolderDataSpec>({
  name: 'image-folder',
  description: "Images (PNG, JPEG, WebP, …) in one sub-folder per class, decoded with sharp and resized to the model's input shape.",
  options: ImageFolderDataSchema,
  async check(options, ctx) {
    if (!ctx.source.imageFolder) throw new Error('this version of @rankwise/datasets reads no image folders');
    const shape = imageShape(options.shape, ctx.model?.inputShape);
    if (!shape && ctx.model?.inputShape === undefined && ctx.model?.inputFeatures !== undefined) {
      ctx.issue('/shape', NO_SHAPE);
      return null;
    }
    const dir = resolve(ctx.dir, options.path);
    let problems = 0;
    try {
      // Decodes every image (small: each is resized to the target), so a file that does not decode fails here.
      const data = await ctx.source.imageFolder(dir, {
        shape: shape ?? [8, 8, 1],
        display: ctx.show(dir),
        onProblem: (file, message) => {
          if (++problems <= MAX_LISTED_PROBLEMS) ctx.dataIssue({ file }, message);
        },
      });
      if (problems > MAX_LISTED_PROBLEMS) ctx.dataIssue({ file: ctx.show(dir) }, `${problems - MAX_LISTED_PROBLEMS} more images that do not decode`);
      if (problems > 0) return null;
      return { kind: 'classification', inputShape: shape ?? data.inputShape, classNames: data.classNames, examples: data.n };
    } catch (error) {
      if (error instanceof Error && error.name === 'DataError') {
        ctx.dataIssue((error as DataError).location, (error as DataError).problem);
        return null;
      }
      throw error;
    }
  },
  async open(options, ctx) {
    if (!ctx.source.imageFolder) throw new Error('this version of @rankwise/datasets reads no image folders');
    const shape = imageShape(options.shape, ctx.inputShape);
    if (!shape) throw new DataError({ file: options.path }, NO_SHAPE);
    return ctx.source.imageFolder(resolve(ctx.dir, options.path), {
      shape,
      display: options.path,
      ...(options.split ? { split: options.split, validationFraction: options.validationFraction ?? 0.1, seed: options.splitSeed ?? 0 } : {}),
    });
  },
});
