import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassificationDataset, ImageFolderOptions } from '@rankwise/core/plugin';
import { splitOf } from './split-of.js';
import { DataError } from './data-error.js';

const IMAGE_FILE = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

/** Class folders (sorted by name) and their image files (sorted), without decoding anything. */
export async function listImageFolder(dir: string, display = dir): Promise<Array<{ name: string; files: string[] }>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      { file: display },
      code === 'ENOENT'
        ? 'folder not found'
        : code === 'ENOTDIR'
          ? 'not a folder; an image dataset is a folder with one sub-folder per class'
          : (error as Error).message,
    );
  }
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length < 2)
    throw new DataError(
      { file: display },
      `found ${classes.length} class folder${classes.length === 1 ? '' : 's'}, allowed: at least 2 (one sub-folder of images per class)`,
    );
  const out: Array<{ name: string; files: string[] }> = [];
  for (const name of classes) {
    const files = (await readdir(join(dir, name))).filter((f) => IMAGE_FILE.test(f)).sort();
    if (files.length === 0)
      throw new DataError({ file: `${display}/${name}` }, 'no images (.png, .jpg, .jpeg, .webp, .gif, .tiff, .avif) in this class folder');
    out.push({ name, files });
  }
  return out;
}

/**
 * Decodes every image of a class-per-folder tree with sharp, resized (fill) to [height, width] and converted to
 * `channels` (1 grey, 3 RGB, 4 RGBA), values in [0, 1], x row-major [n, height, width, channels]. Files are visited in
 * sorted order; the split is per image index within its class, seeded.
 */
export async function loadImageFolder(dir: string, options: ImageFolderOptions): Promise<ClassificationDataset> {
  const display = options.display ?? dir;
  const [height, width, channels] = options.shape;
  const sharp = (await import('sharp')).default;
  const classes = await listImageFolder(dir, display);
  const chosen: Array<{ file: string; label: number }> = [];
  classes.forEach(({ name, files }, label) => {
    files.forEach((f, k) => {
      if (options.split === undefined || splitOf(k, options.validationFraction ?? 0.1, (options.seed ?? 0) + label * 7919) === options.split)
        chosen.push({ file: join(name, f), label });
    });
  });
  const size = height * width * channels;
  const x = new Float32Array(chosen.length * size);
  const y = new Int32Array(chosen.length);
  let n = 0;
  for (const { file, label } of chosen) {
    let pixels: Buffer;
    try {
      let image = sharp(join(dir, file)).resize(width, height, { fit: 'fill' });
      image = channels === 1 ? image.grayscale().removeAlpha() : channels === 3 ? image.removeAlpha().toColourspace('srgb') : image.ensureAlpha();
      const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
      pixels = data;
    } catch (error) {
      const message = `the image does not decode (${(error as Error).message.split('\n')[0]})`;
      if (options.onProblem) {
        options.onProblem(`${display}/${file}`, message);
        continue;
      }
      throw new DataError({ file: `${display}/${file}` }, message);
    }
    for (let i = 0; i < size; i++) x[n * size + i] = pixels[i] / 255;
    y[n] = label;
    n++;
  }
  const which = options.split ? `/${options.split}` : '';
  return {
    kind: 'classification',
    name: `${display}${which}`,
    inputShape: [height, width, channels],
    classNames: classes.map((c) => c.name),
    n,
    x: x.subarray(0, n * size),
    y: y.subarray(0, n),
  };
}

/** Whether a folder exists (for messages). */
export async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
