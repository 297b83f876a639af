import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createRankwise, loadHuggingFaceModel } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { parsePeftConfig, peftTargetSites, readHuggingFaceConfig } from '@rankwise/formats';
import { describeLlama } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { normRelativeError } from '../helpers/numeric.js';
import { logitsOf } from './fixtures.js';
import { editedFixture, familyFixture, familyLogits, familyReference } from './family-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

/** One line: `<dir>/config.json: <pointer>: <what was found, what is allowed>`. */
async function configError(fixture: string, edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = editedFixture(fixture, edit);
  const error = await readHuggingFaceConfig(dir).then(
    () => null,
    (e: Error) => e.message,
  );
  expect(error, 'the config is refused').not.toBeNull();
  expect(error!.startsWith(`${join(dir, 'config.json')}: /`)).toBe(true);
  expect(error).not.toContain('\n');
  return error!.slice(join(dir, 'config.json').length + 2);
}

describe('config.json of the model families: unsupported values are refused, naming the key', () => {
  test.each<[string, string, (c: Record<string, unknown>) => void]>([
    [
      'llama3-tiny',
      '/model_type: found "gpt_neox", allowed: "llama", "qwen2", "mistral", "qwen3", "phi3", "gemma", "gemma2"',
      (c) => {
        c.model_type = 'gpt_neox';
      },
    ],
    [
      'llama3-tiny',
      '/rope_scaling/rope_type: found "su"',
      (c) => {
        c.rope_scaling = { rope_type: 'su', short_factor: [1], long_factor: [1] };
      },
    ],
    [
      'phi3-tiny',
      '/rope_scaling/long_factor: found [1], allowed: 2 positive numbers (one per rotary frequency)',
      (c) => {
        c.rope_scaling = { rope_type: 'longrope', short_factor: [1, 1], long_factor: [1] };
      },
    ],
    [
      'llama3-tiny',
      '/rope_scaling/low_freq_factor: missing; rope type "llama3" needs factor, low_freq_factor, high_freq_factor, original_max_position_embeddings',
      (c) => {
        delete (c.rope_scaling as Record<string, unknown>).low_freq_factor;
      },
    ],
    [
      'llama3-tiny',
      '/rope_theta: found 100, allowed: 10000 (rope_parameters.rope_theta) or absent',
      (c) => {
        c.rope_parameters = { rope_type: 'default', rope_theta: 10000 };
      },
    ],
    [
      'gemma2-tiny',
      '/rope_parameters: found {"full_attention":{"rope_type":"default","rope_theta":10000}}, allowed: an object with a numeric "rope_theta"',
      (c) => {
        c.rope_parameters = { full_attention: { rope_type: 'default', rope_theta: 10000 } };
      },
    ],
    [
      'llama3-tiny',
      '/rope_parameters/beta_fast: rope type "llama3" does not take "beta_fast"',
      (c) => {
        c.rope_parameters = { ...(c.rope_scaling as object), rope_theta: 100, beta_fast: 4 };
        delete c.rope_theta;
        delete c.rope_scaling;
      },
    ],
    [
      'llama3-tiny',
      '/architectures: found ["MistralForCausalLM"], allowed: ["LlamaForCausalLM"]',
      (c) => {
        c.architectures = ['MistralForCausalLM'];
      },
    ],
    [
      'mistral-tiny',
      '/sliding_window: found 0, allowed: a positive integer or null',
      (c) => {
        c.sliding_window = 0;
      },
    ],
    [
      'qwen3-tiny',
      '/use_sliding_window: found true, allowed: false',
      (c) => {
        c.use_sliding_window = true;
      },
    ],
    [
      'phi3-tiny',
      '/partial_rotary_factor: rotary embeddings need an even rotary dimension: head_dim 8 × partial_rotary_factor 0.1 gives 0',
      (c) => {
        c.partial_rotary_factor = 0.1;
      },
    ],
    [
      'phi3-tiny',
      '/hidden_act: found "gelu", allowed: "silu" (a SwiGLU MLP)',
      (c) => {
        c.hidden_act = 'gelu';
      },
    ],
    [
      'gemma-tiny',
      '/hidden_activation: found "gelu", allowed: null, "gelu_pytorch_tanh"',
      (c) => {
        c.hidden_activation = 'gelu';
      },
    ],
    [
      'gemma2-tiny',
      '/layer_types: found ["sliding_attention"], allowed: null or 3 of "full_attention" / "sliding_attention" (one per layer)',
      (c) => {
        c.layer_types = ['sliding_attention'];
      },
    ],
    [
      'gemma2-tiny',
      '/query_pre_attn_scalar: found 0, allowed: a positive number',
      (c) => {
        c.query_pre_attn_scalar = 0;
      },
    ],
  ])('%s: %s', async (fixture, message, edit) => {
    expect(await configError(fixture, edit)).toContain(message);
  });

  test("transformers 5's rope_parameters reads as rope_theta + rope_scaling and gives the reference logits", async () => {
    const dir = editedFixture('llama3-tiny', (c) => {
      c.rope_parameters = { ...(c.rope_scaling as object), rope_theta: c.rope_theta };
      delete c.rope_theta;
      delete c.rope_scaling;
    });
    const { config } = await readHuggingFaceConfig(dir);
    expect(config.rope_theta).toBe(100);
    expect(config.rope_scaling).toEqual({ factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32, rope_type: 'llama3' });
    const { model } = await loadHuggingFaceModel(dir);
    const error = normRelativeError(await logitsOf(model, familyReference.ids), await familyLogits('llama3-tiny'));
    model.dispose();
    expect(error).toBeLessThan(1e-4);
  });

  test('keys a family does not have are kept, not read (as transformers ignores them): a llama config with sliding_window', async () => {
    const { config } = await readHuggingFaceConfig(
      editedFixture('llama3-tiny', (c) => {
        c.sliding_window = 4;
      }),
    );
    expect(config.sliding_window).toBeNull();
    expect(config.hf_extra.sliding_window).toBe(4);
  });

  test("defaults are the family's transformers config class values; null turns a Gemma 2 soft cap off", () => {
    const base = { vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 };
    const gemma2 = describeLlama({ ...base, model_type: 'gemma2', final_logit_softcapping: null }).config;
    expect(gemma2).toMatchObject({
      head_dim: 256,
      num_key_value_heads: 4,
      sliding_window: 4096,
      query_pre_attn_scalar: 256,
      attn_logit_softcapping: 50,
      final_logit_softcapping: null,
      tie_word_embeddings: true,
    });
    expect(describeLlama({ ...base, num_attention_heads: 8, model_type: 'mistral' }).config).toMatchObject({
      num_key_value_heads: 8,
      sliding_window: 4096,
      head_dim: 4,
    });
    expect(() => describeLlama({ ...base, num_attention_heads: 8, model_type: 'mistral', mlp_bias: true })).toThrow(
      '/mlp_bias: "mlp_bias" is not a mistral config key (it belongs to llama)',
    );
  });

  test("PEFT's default target_modules per model type: q_proj, v_proj for Mistral, Qwen3, Gemma, Gemma 2; none for Phi-3", async () => {
    const peft = parsePeftConfig({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: null }, 'adapter_config.json');
    for (const family of ['mistral', 'qwen3', 'gemma', 'gemma2']) {
      const { config } = await readHuggingFaceConfig(editedFixture(`${family}-tiny`, () => {}));
      const sites = describeLlama(config).sites;
      expect(peftTargetSites(peft, sites, family).map((s) => s.path.split('.').slice(-1)[0])).toEqual(
        Array(config.num_hidden_layers).fill(['q_proj', 'v_proj']).flat(),
      );
    }
    const { config } = await readHuggingFaceConfig(editedFixture('phi3-tiny', () => {}));
    expect(() => peftTargetSites(peft, describeLlama(config).sites, 'phi3')).toThrow(
      'target_modules is null and PEFT has no default target modules for model type "phi3"',
    );
  });

  test('GGUF export is refused at validation for the families and rope scalings the GGUF writer does not know', async () => {
    const rankwise = createRankwise({ progress: new SilentProgress() });
    const issues = async (dir: string) =>
      rankwise
        .validate({
          name: 'gguf',
          seed: 1,
          stages: [
            { stage: 'load', huggingface: dir },
            { stage: 'save', gguf: { type: 'f16' } },
          ],
        })
        .then(
          () => [],
          (e: { issues?: Array<{ pointer: string; message: string }> }) => (e.issues ?? []).map((i) => `${i.pointer}: ${i.message}`),
        );
    expect(await issues(familyFixture('gemma2-tiny'))).toEqual([
      '/stages/1/gguf: found a model with model_type "gemma2": the GGUF writer knows "llama", "qwen2" only',
    ]);
    expect((await issues(familyFixture('llama3-tiny')))[0]).toMatch(
      /^\/stages\/1\/gguf: found a model with rope_scaling \{.*"rope_type":"llama3"\}: the GGUF writer has no rope scaling$/,
    );
    expect(
      await issues(
        editedFixture('llama3-tiny', (c) => {
          c.rope_scaling = null;
        }),
      ),
    ).toEqual([]);
  });

  test('rankwise validate exits 2 with the one-line error for an unsupported rope_scaling', () => {
    const model = editedFixture('llama3-tiny', (c) => {
      c.rope_scaling = { rope_type: 'yarn', factor: 4, mscale: 'big' };
    });
    const file = join(mkdtempSync(join(tmpdir(), 'rankwise-family-pipeline-')), 'pipeline.json');
    writeFileSync(file, JSON.stringify({ name: 'bad-rope', seed: 1, stages: [{ stage: 'load', huggingface: model }] }));
    const run = runCli(['validate', file]);
    expect(run.status).toBe(2);
    expect(run.stdout + run.stderr).toContain(
      `/stages/0/huggingface: ${join(model, 'config.json')}: /rope_scaling/mscale: found "big", allowed: a number or null`,
    );
  });
});
