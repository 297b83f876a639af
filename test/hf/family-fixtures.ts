import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSafetensorsFile } from '@rankwise/core';

/** Outputs of scripts/hf-reference/make_family_reference.py (committed, so CI needs no Python). */
export const FAMILY_FIXTURES = resolve('test/fixtures/hf-families');
export const familyFixture = (name: string): string => resolve(FAMILY_FIXTURES, name);

export interface RopeCase {
  config: {
    head_dim: number;
    rope_theta: number;
    max_position_embeddings: number;
    rope_scaling: Record<string, unknown> | null;
    original_max_position_embeddings?: number;
  };
  seqLen: number;
  invFreq: number[];
  attentionFactor: number;
  rotaryDim: number;
}

export interface FamilyReference {
  /** Token ids [2, 12]. */
  ids: number[][];
  /** Config edits evaluated on a fixture's weights (logits `<model>@<variant>`): rope schedules on llama3-tiny, longrope on phi3-tiny. */
  variants: Record<string, { model: string; config: Record<string, unknown> }>;
  /** inv_freq and attention factor of rope schedules, computed by the script as transformers does. */
  rope: RopeCase[];
}

export const familyReference = JSON.parse(readFileSync(familyFixture('reference.json'), 'utf8')) as FamilyReference;

/** PyTorch logits [2, 12, 384] (float64, stored as F32): 'gemma2-tiny', 'llama3-tiny@yarn', 'phi3-tiny+phi3-all-linear', … */
export async function familyLogits(name: string): Promise<Float32Array> {
  const { tensors } = await readSafetensorsFile(familyFixture('reference.safetensors'));
  const t = tensors.get(name);
  if (!t) throw new Error(`reference.safetensors has no "${name}"; it has ${[...tensors.keys()].join(', ')}`);
  return t.data;
}

/** A copy of a fixture directory with config.json changed by `edit` (for rope variants and invalid configs). */
export function editedFixture(name: string, edit: (config: Record<string, unknown>) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'rankwise-family-')), name);
  cpSync(familyFixture(name), dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
