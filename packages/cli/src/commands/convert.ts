import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadGgufModel, loadHuggingFaceModel, resolveBackend, saveGgufModel, saveHuggingFaceModel, type LlamaConfig } from '@rankwise/core';
import { checkGgufAdapter, checkGgufModel, ggufAdapterToPeft, peftToGgufAdapter, readHuggingFaceConfig } from '@rankwise/formats';
import { readGgufHeader, WRITE_TYPES, type GgufWriteType } from '@rankwise/gguf';
import { EXIT, type ExitCode } from '../exit-codes.js';

export interface ConvertFlags {
  /** GGUF tensor type of a written model (f32, f16, q8_0). */
  type?: string;
  /** The base model of an adapter: a Hugging Face model directory or a GGUF model file. */
  base?: string;
}

/** Invalid input: every line printed, nothing written. */
class InvalidInput extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

const isGguf = (path: string): boolean => path.toLowerCase().endsWith('.gguf');
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The llama config of an adapter's base model (header / config.json only). */
async function baseConfig(base: string | undefined, what: string): Promise<{ config: LlamaConfig; id: string }> {
  if (!base)
    throw new InvalidInput([
      `--base: missing; ${what} needs its base model (a Hugging Face model directory or a GGUF model file) for the head counts of the q/k permutation`,
    ]);
  const path = resolve(base);
  if (isGguf(path)) {
    const check = await checkGgufModel(path);
    if (!check.config) throw new InvalidInput(check.issues);
    const name = check.header.metadata.get('general.name')?.value;
    return { config: check.config, id: typeof name === 'string' ? name : base };
  }
  try {
    const info = await readHuggingFaceConfig(path);
    return { config: info.config, id: info.hubId ?? base };
  } catch (error) {
    throw new InvalidInput([(error as Error).message]);
  }
}

/**
 * `rankwise convert <input> <output>`: PEFT adapter folder ↔ GGUF LoRA adapter (with --base), Hugging Face model
 * directory ↔ GGUF model, decided by what the input is. Exit 2 with one line per problem when the input is invalid.
 */
export async function convertCommand(input: string, output: string, flags: ConvertFlags): Promise<ExitCode> {
  try {
    const from = resolve(input);
    const to = resolve(output);
    if (!(await exists(from))) throw new InvalidInput([`${from}: no such file or directory`]);
    const type = (flags.type ?? 'f16') as GgufWriteType;
    if (!(type in WRITE_TYPES)) throw new InvalidInput([`--type: found ${JSON.stringify(flags.type)}, allowed: ${Object.keys(WRITE_TYPES).join(', ')}`]);
    if (isGguf(from)) {
      if (isGguf(to)) throw new InvalidInput([`${to}: a GGUF input converts to a folder (a Hugging Face model directory or a PEFT adapter folder)`]);
      const header = await readGgufHeader(from).catch((error: Error) => {
        throw new InvalidInput([error.message]);
      });
      if (header.metadata.get('general.type')?.value === 'adapter') {
        const { config, id } = await baseConfig(flags.base, 'a GGUF LoRA adapter');
        const issues = await checkGgufAdapter(from, config);
        if (issues.length > 0) throw new InvalidInput(issues);
        await resolveBackend('auto');
        const { sites, alpha } = await ggufAdapterToPeft(from, config, to, { baseModel: id });
        console.log(`wrote PEFT adapter ${output} (${sites} sites, lora_alpha ${alpha})`);
        return EXIT.ok;
      }
      const check = await checkGgufModel(from);
      if (!check.config) throw new InvalidInput(check.issues);
      await resolveBackend('auto');
      const { model, tokenizer } = await loadGgufModel(from);
      try {
        await saveHuggingFaceModel(model, to);
        await writeFile(join(to, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizer));
        await writeFile(join(to, 'tokenizer_config.json'), `${JSON.stringify(tokenizer.config, null, 2)}\n`);
      } finally {
        model.dispose();
      }
      console.log(`wrote Hugging Face model directory ${output} (float32 safetensors, tokenizer.json)`);
      return EXIT.ok;
    }
    if (!isGguf(to)) throw new InvalidInput([`${to}: a folder converts to a .gguf file`]);
    if (await exists(join(from, 'adapter_config.json'))) {
      const { config, id } = await baseConfig(flags.base, 'a PEFT adapter');
      await resolveBackend('auto');
      const adapterType = type === 'f16' || type === 'f32' ? type : 'f32';
      const { sites, alpha } = await peftToGgufAdapter(from, config, to, { name: id, type: adapterType }).catch((error: Error) => {
        throw new InvalidInput([error.message]);
      });
      console.log(`wrote GGUF LoRA adapter ${output} (${sites} sites, adapter.lora.alpha ${alpha}, ${adapterType})`);
      return EXIT.ok;
    }
    const info = await readHuggingFaceConfig(from).catch((error: Error) => {
      throw new InvalidInput([error.message]);
    });
    const tokenizerFile = join(from, 'tokenizer.json');
    if (!(await exists(tokenizerFile))) throw new InvalidInput([`${from}: no tokenizer.json (a GGUF model carries its tokenizer)`]);
    const tokenizer = JSON.parse(await readFile(tokenizerFile, 'utf8')) as Record<string, unknown>;
    const config = JSON.parse(await readFile(join(from, 'tokenizer_config.json'), 'utf8').catch(() => '{}')) as Record<string, unknown>;
    await resolveBackend('auto');
    const { model } = await loadHuggingFaceModel(from);
    try {
      await mkdir(resolve(to, '..'), { recursive: true });
      await saveGgufModel(model, to, { type, name: info.hubId ?? input, tokenizer: { tokenizer, config } });
    } catch (error) {
      if ((error as Error).message.startsWith('tokenizer.json')) throw new InvalidInput([`${from}/${(error as Error).message}`]);
      throw error;
    } finally {
      model.dispose();
    }
    console.log(`wrote GGUF model ${output} (${type})`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof InvalidInput) {
      for (const line of error.lines) console.error(`✖ ${line}`);
      return EXIT.invalid;
    }
    throw error;
  }
}
