/**
 * LoRA adapters as GGUF LoRA adapters, laid out as llama.cpp's convert_lora_to_gguf.py writes them: general.type
 * "adapter", adapter.type "lora", adapter.lora.alpha, and per adapted Linear `<gguf name>.weight.lora_a` (PEFT's
 * lora_A [r, in] → GGUF dims [in, r]) and `.lora_b` (lora_B [out, r] → dims [r, out]), lora_b's rows of q and k
 * permuted like the base weights. llama.cpp scales every site by alpha / r with r read from each lora_b: sites whose
 * PEFT scaling differs from that (rsLoRA, per-site alpha) get the ratio folded into lora_b, so the product is PEFT's.
 * Converting back gives a PEFT adapter folder.
 */
import * as tf from '@tensorflow/tfjs';
import { GgmlType, GgufReader, GgufValueType, gguf, readGgufHeader, writeGguf, type GgufTensorToWrite, type GgufValue } from '@rankwise/gguf';
import { loraScaling } from '@rankwise/lora';
import { loraVariant, PLAIN_LORA } from '@rankwise/lora';
import { describeLlama, type LlamaConfig } from '@rankwise/models';
import { ggufModuleName, llamaGgufMetadata, permuteRotaryRows, rotaryHeads } from './gguf-llama.js';
import { readAdapter, saveAdapterSites, type AdapterSite } from './peft-adapter.js';

const LAYER_MODULES: Record<string, string> = {
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
};

/** `blk.3.attn_q` → `model.layers.3.self_attn.q_proj`; `output` → `lm_head`; null for names that are not LoRA sites. */
export function hfModulePath(ggufModule: string): string | null {
  if (ggufModule === 'output') return 'lm_head';
  const m = /^blk\.(\d+)\.(\w+)$/.exec(ggufModule);
  const local = m ? LAYER_MODULES[m[2]] : undefined;
  return m && local ? `model.layers.${m[1]}.${local}` : null;
}

/**
 * Writes the PEFT adapter folder `peftDir` (checked against `config`'s sites) as a GGUF LoRA adapter. Refuses what
 * llama.cpp's LoRA cannot express: variants other than plain LoRA (DoRA magnitudes), non-Linear sites.
 */
export async function peftToGgufAdapter(
  peftDir: string,
  config: LlamaConfig,
  file: string,
  options: { name: string; type?: 'f32' | 'f16' },
): Promise<{ sites: number; alpha: number }> {
  const sites = await readAdapter(peftDir, describeLlama(config).sites, config.model_type);
  for (const s of sites) {
    if (s.variant !== PLAIN_LORA) {
      const { label, tensors } = loraVariant(s.variant);
      throw new Error(
        `${peftDir}: site "${s.path}" is ${label} (${tensors.map((t) => t.key).join(', ')}); GGUF LoRA adapters (llama.cpp) have plain LoRA only`,
      );
    }
    if (s.kind !== 'linear') throw new Error(`${peftDir}: site "${s.path}" holds ${s.kind} factors; GGUF LoRA adapters take Linear sites`);
  }
  // llama.cpp: scale = alpha / r per site (r from lora_b). The first site's PEFT scaling decides alpha.
  const alpha = loraScaling(sites[0]) * sites[0].r;
  const type = options.type === 'f16' ? GgmlType.F16 : GgmlType.F32;
  const metadata: Map<string, GgufValue> = llamaGgufMetadata(config, { name: options.name, fileType: null, type: 'adapter' });
  metadata.set('adapter.type', gguf.string('lora'));
  metadata.set('adapter.lora.alpha', gguf.f32(alpha));
  const tensors: GgufTensorToWrite[] = sites.flatMap((s) => {
    const name = `${ggufModuleName(s.path)}.weight`;
    const fold = (loraScaling(s) * s.r) / alpha; // 1 unless this site's scaling differs from alpha / r
    const heads = rotaryHeads(config, `${s.path}.weight`);
    return [
      { name: `${name}.lora_a`, dims: [s.inFeatures, s.r], type, values: async () => s.loraA }, // lora_A [r, in]
      {
        name: `${name}.lora_b`,
        dims: [s.r, s.outFeatures],
        type,
        async values() {
          const b = fold === 1 ? s.loraB : s.loraB.map((v) => v * fold); // lora_B [out, r]
          return heads === null ? b : permuteRotaryRows(b, heads, s.r);
        },
      },
    ];
  });
  await writeGguf(file, metadata, tensors);
  return { sites: sites.length, alpha };
}

/** One site of a GGUF LoRA adapter in PEFT layout: lora_A [r, in], lora_B [out, r] (rows un-permuted). */
export interface GgufAdapterSite {
  path: string;
  r: number;
  inFeatures: number;
  outFeatures: number;
  loraA: Float32Array;
  loraB: Float32Array;
}

/** Problems with a GGUF LoRA adapter's header for a base of `config`, one line each. */
export async function checkGgufAdapter(file: string, config: LlamaConfig): Promise<string[]> {
  const header = await readGgufHeader(file);
  const issues: string[] = [];
  const m = header.metadata;
  const at = (key: string) => `${file}: /metadata/${key}`;
  const expect = (key: string, value: unknown, allowed: string) => {
    const found = m.get(key)?.value;
    if (found !== value) issues.push(`${at(key)}: found ${JSON.stringify(found ?? null)}, allowed: ${allowed}`);
  };
  expect('general.type', 'adapter', '"adapter"');
  expect('adapter.type', 'lora', '"lora"');
  expect('general.architecture', config.model_type, `${JSON.stringify(config.model_type)} (the base model's architecture)`);
  const alpha = m.get('adapter.lora.alpha');
  if (!alpha || alpha.type !== GgufValueType.FLOAT32 || !((alpha.value as number) > 0))
    issues.push(`${at('adapter.lora.alpha')}: found ${JSON.stringify(alpha?.value ?? null)}, allowed: a positive float32`);
  const sites = new Map(describeLlama(config).sites.map((s) => [s.path, s]));
  const tensors = new Map(header.tensors.map((t) => [t.name, t]));
  for (const t of header.tensors) {
    const match = /^(.+)\.weight\.lora_([ab])$/.exec(t.name);
    const path = match ? hfModulePath(match[1]) : null;
    const site = path ? sites.get(path) : undefined;
    if (!match || !site) {
      issues.push(
        `${file}: /tensors/${t.name}: not a LoRA tensor of a ${config.model_type} site (expected blk.N.<attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down>.weight.lora_a|lora_b)`,
      );
      continue;
    }
    if (t.type !== GgmlType.F32 && t.type !== GgmlType.F16 && t.type !== GgmlType.BF16 && t.type !== GgmlType.Q8_0)
      issues.push(`${file}: /tensors/${t.name}/type: found ${GgmlType[t.type] ?? t.type}, allowed: F32, F16, BF16, Q8_0`);
    const other = tensors.get(`${match[1]}.weight.lora_${match[2] === 'a' ? 'b' : 'a'}`);
    if (!other) {
      issues.push(`${file}: /tensors/${t.name}: its lora_${match[2] === 'a' ? 'b' : 'a'} is missing`);
      continue;
    }
    const r = match[2] === 'a' ? t.dims[1] : t.dims[0];
    const dims = match[2] === 'a' ? [site.inFeatures, r] : [r, site.outFeatures];
    if (t.dims.join() !== dims.join()) issues.push(`${file}: /tensors/${t.name}/dims: found [${t.dims.join(', ')}], allowed: [${dims.join(', ')}]`);
  }
  if (header.tensors.length === 0) issues.push(`${file}: /tensors: holds no LoRA tensors`);
  return issues;
}

/** Reads a GGUF LoRA adapter for a base of `config` (checked first: throws every issue, one line each). */
export async function readGgufAdapter(file: string, config: LlamaConfig): Promise<{ alpha: number; sites: GgufAdapterSite[] }> {
  const issues = await checkGgufAdapter(file, config);
  if (issues.length > 0) throw new Error(issues.join('\n'));
  const reader = await GgufReader.open(file);
  try {
    const alpha = reader.header.metadata.get('adapter.lora.alpha')!.value as number;
    const sites: GgufAdapterSite[] = [];
    for (const t of reader.header.tensors) {
      const match = /^(.+)\.weight\.lora_a$/.exec(t.name);
      if (!match) continue;
      const path = hfModulePath(match[1])!;
      const [inFeatures, r] = t.dims;
      const b = reader.tensor(`${match[1]}.weight.lora_b`);
      const heads = rotaryHeads(config, `${path}.weight`);
      const loraB = await reader.read(b.name);
      sites.push({
        path,
        r,
        inFeatures,
        outFeatures: b.dims[1],
        loraA: await reader.read(t.name),
        loraB: heads === null ? loraB : permuteRotaryRows(loraB, heads, r, true),
      });
    }
    return { alpha, sites };
  } finally {
    await reader.close();
  }
}

/** Writes a GGUF LoRA adapter as a PEFT adapter folder (lora_alpha = adapter.lora.alpha, ranks from the tensors). */
export async function ggufAdapterToPeft(
  file: string,
  config: LlamaConfig,
  dir: string,
  options: { baseModel?: string | null } = {},
): Promise<{ sites: number; alpha: number }> {
  const { alpha, sites } = await readGgufAdapter(file, config);
  const adapterSites: AdapterSite[] = sites.map((s) => ({
    path: s.path,
    r: s.r,
    alpha,
    rslora: false,
    dropout: 0,
    kind: 'linear',
    a: tf.tidy(() => tf.tensor2d(s.loraA, [s.r, s.inFeatures]).transpose()), // [r, in] → A [in, r]
    b: tf.tidy(() => tf.tensor2d(s.loraB, [s.outFeatures, s.r]).transpose()), // [out, r] → B [r, out]
    magnitude: null,
    init: 'kaiming',
    initial: null,
  }));
  try {
    await saveAdapterSites(adapterSites, dir, { baseModel: options.baseModel ?? null, taskType: 'CAUSAL_LM' });
  } finally {
    tf.dispose(adapterSites.flatMap((s) => [s.a, s.b]));
  }
  return { sites: sites.length, alpha };
}
