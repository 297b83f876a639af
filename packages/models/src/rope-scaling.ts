import { ConfigError } from './description.js';
import type { JsonObject, JsonValue } from './model.js';

/**
 * Rotary-embedding frequency schedules of Hugging Face configs (`rope_scaling` in config.json), as transformers'
 * modeling_rope_utils.py computes them (ROPE_INIT_FUNCTIONS, transformers 4.56 / 5.x):
 *
 * - `default`: inv_freq[i] = θ^(−2i/d) over the rotary dimension d.
 * - `linear`: inv_freq / factor.
 * - `dynamic` (NTK): θ' = θ · (factor · L / max_pos − (factor − 1))^(d / (d − 2)) with L = max(seq_len, max_pos);
 *   equal to `default` for every sequence up to max_position_embeddings (the only lengths rankwise runs).
 * - `yarn`: a linear ramp between inv_freq / factor (interpolated) and inv_freq (extrapolated) over the dimensions
 *   [low, high] found from beta_fast / beta_slow rotations at original_max_position_embeddings (else
 *   max_position_embeddings), floored / ceiled unless truncate is false; cos and sin are multiplied by
 *   attention_factor (default 0.1·ln(factor) + 1, or the mscale / mscale_all_dim ratio when both are set).
 * - `llama3` (Llama 3.1+): wavelengths 2π / inv_freq above original / low_freq_factor divided by factor, below
 *   original / high_freq_factor kept, smoothly interpolated between.
 * - `longrope` (Phi-3 128k, Phi-3.5, Phi-4-mini): inv_freq[i] = 1 / (ext[i] · θ^(2i/d)) with ext = long_factor when the
 *   sequence is longer than original_max_position_embeddings (the config's top-level key), else short_factor; cos
 *   and sin × attention_factor (default sqrt(1 + ln(factor) / ln(original)), factor = max_pos / original).
 */
export const ROPE_TYPES = ['default', 'linear', 'dynamic', 'yarn', 'llama3', 'longrope'] as const;
export type RopeType = (typeof ROPE_TYPES)[number];

/** The keys each rope type reads (transformers' required + optional keys; `type` is the old name of `rope_type`). */
const KEYS: Record<RopeType, { required: string[]; optional: string[] }> = {
  default: { required: [], optional: [] },
  linear: { required: ['factor'], optional: [] },
  dynamic: { required: ['factor'], optional: ['original_max_position_embeddings'] },
  yarn: {
    required: ['factor'],
    optional: ['attention_factor', 'beta_fast', 'beta_slow', 'original_max_position_embeddings', 'mscale', 'mscale_all_dim', 'truncate'],
  },
  llama3: { required: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'], optional: [] },
  longrope: { required: ['short_factor', 'long_factor'], optional: ['attention_factor', 'factor', 'original_max_position_embeddings'] },
};

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rope type of a checked rope_scaling object (null: unscaled). */
export function ropeTypeOf(scaling: JsonObject | null): RopeType {
  if (scaling === null) return 'default';
  return (scaling.rope_type ?? scaling.type ?? 'default') as RopeType;
}

/**
 * Checks a config's `rope_scaling` (null or absent: unscaled) and returns it unchanged (null when absent), so a saved
 * config.json carries it again. Unknown rope types, unknown keys, missing keys and out-of-range values are
 * ConfigErrors at `/rope_scaling/<key>`.
 */
export function checkRopeScaling(raw: JsonValue | undefined, rotaryDim?: number): JsonObject | null {
  if (raw === undefined || raw === null) return null;
  const at = (key: string) => (key === '' ? '/rope_scaling' : `/rope_scaling/${key}`);
  if (!isObject(raw)) throw new ConfigError(at(''), `found ${JSON.stringify(raw)}, allowed: null or an object with "rope_type"`);
  if (raw.rope_type !== undefined && raw.type !== undefined && raw.rope_type !== raw.type) {
    throw new ConfigError(at('type'), `found ${JSON.stringify(raw.type)} beside rope_type ${JSON.stringify(raw.rope_type)}; allowed: one rope type`);
  }
  const kind = raw.rope_type ?? raw.type;
  if (!(ROPE_TYPES as readonly JsonValue[]).includes(kind ?? null)) {
    throw new ConfigError(
      at(raw.rope_type !== undefined ? 'rope_type' : 'type'),
      `found ${JSON.stringify(kind ?? null)}, allowed: ${ROPE_TYPES.map((t) => JSON.stringify(t)).join(', ')}`,
    );
  }
  const { required, optional } = KEYS[kind as RopeType];
  for (const key of Object.keys(raw)) {
    if (key !== 'rope_type' && key !== 'type' && !required.includes(key) && !optional.includes(key)) {
      throw new ConfigError(
        at(key),
        `rope type "${String(kind)}" does not take "${key}"; it takes ${[...required, ...optional].join(', ') || 'no other keys'}`,
      );
    }
  }
  for (const key of required)
    if (raw[key] === undefined || raw[key] === null) throw new ConfigError(at(key), `missing; rope type "${String(kind)}" needs ${required.join(', ')}`);
  const positive = (key: string, nullable: boolean): void => {
    const v = raw[key];
    if ((v === undefined || v === null) && nullable) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
      throw new ConfigError(at(key), `found ${JSON.stringify(v)}, allowed: a positive number${nullable ? ' or null' : ''}`);
  };
  const integer = (key: string, nullable: boolean): void => {
    const v = raw[key];
    if ((v === undefined || v === null) && nullable) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new ConfigError(at(key), `found ${JSON.stringify(v)}, allowed: a positive integer${nullable ? ' or null' : ''}`);
  };
  if (required.includes('factor')) positive('factor', false);
  if (kind === 'dynamic') integer('original_max_position_embeddings', true);
  if (kind === 'yarn') {
    for (const key of ['attention_factor', 'beta_fast', 'beta_slow']) positive(key, true);
    for (const key of ['mscale', 'mscale_all_dim']) {
      const v = raw[key];
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
        throw new ConfigError(at(key), `found ${JSON.stringify(v)}, allowed: a number or null`);
    }
    integer('original_max_position_embeddings', true);
    if (raw.truncate !== undefined && typeof raw.truncate !== 'boolean')
      throw new ConfigError(at('truncate'), `found ${JSON.stringify(raw.truncate)}, allowed: true or false`);
  }
  if (kind === 'longrope') {
    for (const key of ['short_factor', 'long_factor']) {
      const v = raw[key];
      const length = rotaryDim === undefined ? null : rotaryDim / 2;
      if (!Array.isArray(v) || v.some((f) => typeof f !== 'number' || !Number.isFinite(f) || !(f > 0)) || (length !== null && v.length !== length)) {
        throw new ConfigError(
          at(key),
          `found ${JSON.stringify(v).slice(0, 80)}, allowed: ${length ?? 'rotary dimension / 2'} positive numbers (one per rotary frequency)`,
        );
      }
    }
    positive('attention_factor', true);
    positive('factor', true);
    integer('original_max_position_embeddings', true);
  }
  if (kind === 'llama3') {
    positive('low_freq_factor', false);
    positive('high_freq_factor', false);
    integer('original_max_position_embeddings', false);
    if ((raw.high_freq_factor as number) <= (raw.low_freq_factor as number)) {
      throw new ConfigError(at('high_freq_factor'), `found ${raw.high_freq_factor}, allowed: a number above low_freq_factor (${raw.low_freq_factor})`);
    }
  }
  return raw;
}

/** What a rotary embedding needs: the rotated dimensions, inverse frequencies per sequence length, cos/sin scale. */
export interface RopeFrequencies {
  /** Dimensions of each head that rotate (the first ones); the rest pass through (partial_rotary_factor < 1). */
  rotaryDim: number;
  /** Multiplies cos and sin (yarn's attention factor; 1 otherwise). */
  attentionFactor: number;
  /** inv_freq [rotaryDim / 2] for a forward pass over `seqLen` positions (`dynamic` and `longrope` depend on it). */
  invFreq(seqLen: number): Float64Array;
  /** longrope: sequences longer than this use long_factor (keys rotated before that point are stale after it). */
  longAfter?: number;
}

export interface RopeSettings {
  headDim: number;
  theta: number;
  /** Phi-3's partial_rotary_factor (default 1): int(headDim · factor) dimensions rotate. */
  partialRotaryFactor?: number;
  maxPositions: number;
  /** A checked rope_scaling object, or null. */
  scaling: JsonObject | null;
  /** longrope: the config's top-level original_max_position_embeddings (Phi-3), if it has one. */
  originalMaxPositions?: number | null;
}

/** The rotary dimension transformers uses: int(head_dim · partial_rotary_factor). */
export function rotaryDimOf(headDim: number, partialRotaryFactor = 1): number {
  return Math.trunc(headDim * partialRotaryFactor);
}

/** θ^(−2i/d) for i < d/2: transformers' default inverse frequencies (1 / base^(arange(0, d, 2) / d)). */
function defaultInvFreq(base: number, dim: number): Float64Array {
  return Float64Array.from({ length: dim / 2 }, (_, i) => 1 / base ** ((2 * i) / dim));
}

/** Inverse frequencies and attention factor of a rope schedule (see ROPE_TYPES). */
export function ropeFrequencies(settings: RopeSettings): RopeFrequencies {
  const dim = rotaryDimOf(settings.headDim, settings.partialRotaryFactor);
  if (dim < 2 || dim % 2 !== 0) throw new Error(`rotary embeddings need an even rotary dimension ≥ 2, got ${dim}`);
  const s = settings.scaling ?? {};
  const kind = ropeTypeOf(settings.scaling);
  const base = settings.theta;
  const maxPos = settings.maxPositions;
  const num = (key: string): number | null => (typeof s[key] === 'number' ? (s[key] as number) : null);
  const need = (key: string): number => {
    const v = num(key);
    if (v === null) throw new Error(`rope_scaling: "${key}" is missing (check the config with checkRopeScaling first)`);
    return v;
  };
  const fixed = (invFreq: Float64Array, attentionFactor = 1): RopeFrequencies => ({ rotaryDim: dim, attentionFactor, invFreq: () => invFreq });
  switch (kind) {
    case 'default':
      return fixed(defaultInvFreq(base, dim));
    case 'linear': {
      const factor = need('factor');
      return fixed(defaultInvFreq(base, dim).map((f) => f / factor));
    }
    case 'dynamic': {
      const factor = need('factor');
      const cache = new Map<number, Float64Array>();
      return {
        rotaryDim: dim,
        attentionFactor: 1,
        invFreq(seqLen) {
          const length = Math.max(seqLen, maxPos);
          let values = cache.get(length);
          if (!values) {
            values = defaultInvFreq(base * ((factor * length) / maxPos - (factor - 1)) ** (dim / (dim - 2)), dim);
            cache.set(length, values);
          }
          return values;
        },
      };
    }
    case 'yarn': {
      const factor = need('factor');
      const original = num('original_max_position_embeddings') ?? maxPos;
      const mscaleOf = (scale: number, m = 1): number => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
      const mscale = num('mscale');
      const mscaleAllDim = num('mscale_all_dim');
      const attention = num('attention_factor') ?? (mscale && mscaleAllDim ? mscaleOf(factor, mscale) / mscaleOf(factor, mscaleAllDim) : mscaleOf(factor));
      const betaFast = num('beta_fast') || 32;
      const betaSlow = num('beta_slow') || 1;
      const correctionDim = (rotations: number): number => (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      let low = correctionDim(betaFast);
      let high = correctionDim(betaSlow);
      if (s.truncate !== false) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001; // transformers: prevents a division by zero
      const invFreq = Float64Array.from({ length: dim / 2 }, (_, i) => {
        const posFreq = base ** ((2 * i) / dim);
        const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
        const extrapolation = 1 - ramp;
        return (1 / (factor * posFreq)) * (1 - extrapolation) + (1 / posFreq) * extrapolation;
      });
      return fixed(invFreq, attention);
    }
    case 'longrope': {
      // transformers 4.56: the config's top-level original_max_position_embeddings (Phi3Config has one, default 4096)
      // sets factor = max_pos / original; without it, original = max_pos and factor comes from rope_scaling.
      const topLevel = settings.originalMaxPositions ?? null;
      const original = topLevel ?? maxPos;
      const factor = topLevel !== null ? maxPos / topLevel : num('factor');
      if (factor === null) throw new Error('rope_scaling longrope needs "factor" or an original_max_position_embeddings');
      const attention = num('attention_factor') ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original)));
      const table = (key: string): Float64Array => {
        const ext = s[key] as number[];
        return Float64Array.from({ length: dim / 2 }, (_, i) => 1 / (ext[i] * base ** ((2 * i) / dim)));
      };
      const short = table('short_factor');
      const long = table('long_factor');
      return { rotaryDim: dim, attentionFactor: attention, invFreq: (seqLen) => (seqLen > original ? long : short), longAfter: original };
    }
    case 'llama3': {
      const factor = need('factor');
      const lowFreqFactor = need('low_freq_factor');
      const highFreqFactor = need('high_freq_factor');
      const old = need('original_max_position_embeddings');
      const lowWavelen = old / lowFreqFactor;
      const highWavelen = old / highFreqFactor;
      return fixed(
        defaultInvFreq(base, dim).map((f) => {
          const wavelen = (2 * Math.PI) / f;
          if (wavelen < highWavelen) return f; // high frequencies: kept
          if (wavelen > lowWavelen) return f / factor; // low frequencies: interpolated by factor
          const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
          return ((1 - smooth) * f) / factor + smooth * f; // in between: smoothed
        }),
      );
    }
  }
}
