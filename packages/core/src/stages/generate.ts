import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { defineStage } from '../contracts/stage.js';
import { generateTexts } from '../generation/generate-text.js';
import { readPromptsFile } from '../generation/prompts-file.js';

const GenerateOptions = Type.Object(
  {
    prompts: Type.String({
      minLength: 1,
      description: 'A JSONL file, relative to the pipeline file: one {"prompt": "…"} per line (other keys are copied to the output).',
    }),
    output: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^/\\\\]+\\.jsonl$',
        default: 'generations.jsonl',
        description: 'The JSONL file written in the run folder: each input line with "completion", "tokens" and "finish".',
      }),
    ),
    maxNewTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1048576, default: 128, description: 'Tokens to generate at most per prompt.' })),
    temperature: Type.Optional(
      Type.Number({ minimum: 0, default: 0, description: 'Sampling temperature; 0: greedy (unless topK, topP or minP is set: then 1).' }),
    ),
    topK: Type.Optional(Type.Integer({ minimum: 0, description: 'Sample among the k most likely tokens (HF top_k; 0 = off).' })),
    topP: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Nucleus sampling (HF top_p).' })),
    minP: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Drop tokens below minP × the top probability (HF min_p).' })),
    repetitionPenalty: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1, description: 'HF repetition_penalty (1 = off).' })),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Texts that end a completion (not included).' })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'Prompts per forward pass (left-padded).' })),
  },
  {
    description: 'Language models: completions of a prompts file with the KV-cache decoder, written as JSONL into the run folder.',
    additionalProperties: false,
  },
);
export type GenerateOptions = Static<typeof GenerateOptions>;

export interface GenerateResult {
  /** Absolute path of the JSONL written. */
  output: string;
  prompts: number;
  tokens: number;
  tokensPerSecond: number;
}

/** Completions of a prompts file (greedy by default, seeded sampling otherwise) → <run>/generations.jsonl. */
export default defineStage<GenerateOptions, GenerateResult, 'generate'>({
  name: 'generate',
  description: 'Language models: completions of a prompts file with the KV-cache decoder, written as JSONL into the run folder.',
  options: GenerateOptions,
  requires: ['model'],
  provides: [],
  async check(options, ctx) {
    if (ctx.model && ctx.model.task !== 'language-model')
      ctx.issue('', `generate needs a language model; found a ${ctx.model.architecture} ${ctx.model.task} model`);
    try {
      await readPromptsFile(resolve(ctx.dir, options.prompts), { messages: false });
      await ctx.hashFile(resolve(ctx.dir, options.prompts));
    } catch (error) {
      ctx.issue('/prompts', (error as Error).message);
    }
  },
  async run(options, ctx) {
    const model = ctx.model.require('generate');
    const vocabulary = ctx.vocabulary.current();
    if (!vocabulary) throw new Error('generate: the model has no vocabulary (load a language model with its tokenizer or corpus)');
    const lines = await readPromptsFile(resolve(ctx.pipeline.dir, options.prompts), { messages: false });
    const { temperature = 0, topK, topP, minP } = options;
    const sample = temperature > 0 || topK !== undefined || topP !== undefined || minP !== undefined;
    const start = performance.now();
    const completions = await generateTexts(
      model,
      vocabulary,
      lines.map((l) => l.prompt!),
      {
        maxNewTokens: options.maxNewTokens ?? 128,
        sample,
        temperature: temperature > 0 ? temperature : 1,
        topK: topK ?? 0,
        topP: topP ?? 1,
        minP: minP ?? 0,
        repetitionPenalty: options.repetitionPenalty ?? 1,
        stop: options.stop ?? [],
        batchSize: options.batchSize ?? 8,
        seed: ctx.seed,
        onBatch: (done, total, tokensPerSecond) => ctx.progress.info(`generate: ${done}/${total} prompts, ${tokensPerSecond.toFixed(1)} tokens/s`),
      },
    );
    const file = options.output ?? 'generations.jsonl';
    const output = ctx.runDir.path(file);
    await writeFile(
      output,
      completions
        .map((c, i) => `${JSON.stringify({ ...lines[i].extra, prompt: lines[i].prompt, completion: c.text, tokens: c.tokens, finish: c.finish })}\n`)
        .join(''),
    );
    ctx.runDir.artifact('generations', file);
    const tokens = completions.reduce((n, c) => n + c.tokens, 0);
    const tokensPerSecond = tokens / ((performance.now() - start) / 1000);
    ctx.progress.info(`generate: ${completions.length} completions, ${tokens} tokens → ${output}`);
    return { output, prompts: completions.length, tokens, tokensPerSecond };
  },
});
