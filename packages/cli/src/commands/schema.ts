import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';

/**
 * `rankwise schema [--out file]`: the pipeline JSON Schema generated from the stage definitions, with the options of
 * every placement plugin and stage package installed in this project (editors complete and check them).
 */
export async function schemaCommand(rankwise: Rankwise, out?: string): Promise<ExitCode> {
  const text = `${JSON.stringify(await rankwise.pipelineSchema(), null, 2)}\n`;
  if (!out) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  const file = resolve(out);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote ${out}`);
  return EXIT.ok;
}
