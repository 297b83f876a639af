import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '@rankwise/models';
import { applyRule, MAJORITY_SIGN_METHODS, type MajoritySignMethod, type TaskRule } from './combine-rules.js';
import { checkAdapterName, type LoraKind } from './lora-layer.js';
import { loraVariant, PLAIN_LORA } from './variants/registry.js';

/**
 * PEFT's add_weighted_adapter (tuners/lora/model.py) on adapter factors in rankwise's layout (A [fanIn, r], B [r, out],
 * ΔW = s·A·B [fanIn, out]); every rule is elementwise or an SVD, so the layout does not change the result.
 *
 * - linear, ties, dare_linear, dare_ties, magnitude_prune: the rule runs on the A's and on the B's separately, with
 *   weights √|wᵢ·sᵢ|·sign(wᵢ·sᵢ) for A and √|wᵢ·sᵢ| for B (so wᵢ·sᵢ reaches ΔW once, with its sign). Every adapter
 *   at a site must have the same rank, the result's rank. This is not Σ wᵢ·ΔWᵢ: A's and B's cross terms stay (PEFT's
 *   behaviour; use cat or svd for the exact weighted sum).
 * - cat: A = [w₁·s₁·A₁ | w₂·s₂·A₂ | …], B = [B₁; B₂; …]: exactly Σ wᵢ·ΔWᵢ, rank Σ rᵢ.
 * - svd, ties_svd, dare_linear_svd, dare_ties_svd, magnitude_prune_svd: the rule runs on the ΔWᵢ with weights wᵢ·sᵢ
 *   (PEFT's get_delta_weight already holds sᵢ, so each ΔW counts wᵢ·sᵢ²·Aᵢ·Bᵢ: PEFT's behaviour, equal to Σ wᵢ·ΔWᵢ
 *   when α = r), then a truncated SVD gives A = U_k, B = S_k·V_kᵀ, k = svdRank or the largest source rank.
 * The new adapter has α = r and no rsLoRA (scaling 1; PEFT fixed an inherited use_rslora in PR #3449). With one source
 * adapter every type is "linear", as in PEFT. Sites some sources lack combine the sources present there.
 * DARE's random pruning keeps each value with probability `density`: PyTorch's torch.bernoulli stream cannot be
 * reproduced, so rankwise draws the keep-masks from its own seeded generator (one stream per site, factor and adapter,
 * `seed` default 0): the same seed gives the same adapter, but not PEFT's masks. `dareMask` supplies masks instead.
 */
export const COMBINATION_TYPES = [
  'svd',
  'linear',
  'cat',
  'ties',
  'ties_svd',
  'dare_linear',
  'dare_linear_svd',
  'dare_ties',
  'dare_ties_svd',
  'magnitude_prune',
  'magnitude_prune_svd',
] as const;
export type CombinationType = (typeof COMBINATION_TYPES)[number];

/** Which factor a DARE mask prunes: A or B (factor rules), or ΔW (the *_svd rules). */
export type DareFactor = 'A' | 'B' | 'delta';

export interface CombineOptions {
  /** The source adapters, in order. */
  adapters: readonly string[];
  /** One weight per source adapter (may be negative). */
  weights: readonly number[];
  /** PEFT's combination_type; default "svd" (PEFT's default). */
  combination?: CombinationType;
  /** svd types: the new rank (default: the largest source rank). */
  svdRank?: number;
  /**
   * svd types: PEFT's svd_clamp, a quantile q in [0, 1]: hi = the q-quantile (linear interpolation, torch.quantile) of
   * the new A's and B's values together, and every value of both is clamped to [−hi, hi]. Default: no clamping.
   */
  svdClamp?: number;
  /** ties, dare_*, magnitude_prune (and their _svd forms): the fraction of values kept, in [0, 1]. */
  density?: number;
  /** ties, dare_ties (and their _svd forms): "total" (default) or "frequency". */
  majoritySign?: MajoritySignMethod;
  /** DARE: the seed of rankwise's keep-masks (default 0). */
  seed?: number;
  /** DARE: keep-masks to use instead of seeded ones, in rankwise layout (A [fanIn, r], B [r, out], ΔW [fanIn, out]). */
  dareMask?: (site: string, factor: DareFactor, adapter: string, size: number) => ArrayLike<number>;
}

/** What the checks need to know of one adapter at one site (from a plan, without reading tensors). */
export interface SiteShape {
  kind: LoraKind;
  /** Rows of A: in (linear), n (embedding), kh·kw·in (conv2d). */
  fanIn: number;
  out: number;
  r: number;
  /** The adapter's variant (lora/variants/registry.ts); only plain LoRA ("lora") combines. */
  variant: string;
}

/** One adapter's factors at one site, rankwise layout. */
export interface SiteFactors extends SiteShape {
  scaling: number;
  dropout: number;
  /** [fanIn, r] row-major. */
  a: ArrayLike<number>;
  /** [r, out] row-major. */
  b: ArrayLike<number>;
}

/** The combined adapter at one site (α = r, no rsLoRA: scaling 1). */
export interface CombinedSite {
  path: string;
  kind: LoraKind;
  fanIn: number;
  out: number;
  r: number;
  dropout: number;
  /** [fanIn, r] row-major. */
  a: Float32Array;
  /** [r, out] row-major. */
  b: Float32Array;
}

const FACTOR_RULES: Record<string, TaskRule> = {
  linear: 'linear',
  ties: 'ties',
  dare_linear: 'dare_linear',
  dare_ties: 'dare_ties',
  magnitude_prune: 'magnitude_prune',
};
const SVD_RULES: Record<string, TaskRule> = {
  svd: 'linear',
  ties_svd: 'ties',
  dare_linear_svd: 'dare_linear',
  dare_ties_svd: 'dare_ties',
  magnitude_prune_svd: 'magnitude_prune',
};
const usesDensity = (type: CombinationType): boolean => !['svd', 'linear', 'cat'].includes(type);
const usesSign = (type: CombinationType): boolean => type.startsWith('ties') || type.startsWith('dare_ties');

export interface CheckedCombination {
  /** The type that runs (one source adapter: "linear", as PEFT). */
  type: CombinationType;
  /** svd types: the rank of the result. */
  svdRank: number | null;
  /** The result's shape at each site it covers. */
  sites: Map<string, SiteShape>;
}

/** A combination refused by `checkCombination`: `pointer` names the option (`/adapters/1`, `/density`, …). */
export class CombineError extends Error {
  constructor(
    readonly adapter: string,
    readonly pointer: string,
    readonly detail: string,
  ) {
    super(`combine "${adapter}": ${pointer}: ${detail}`);
    this.name = 'CombineError';
  }
}

/**
 * Checks a combination against the source adapters' sites (`shapes`: adapter → site → shape) before any tensor is read.
 * Errors name the option (`/adapters/1`, `/density`, …) and say what was found and what is allowed.
 */
export function checkCombination(
  name: string,
  options: CombineOptions,
  shapes: ReadonlyMap<string, ReadonlyMap<string, SiteShape>>,
  existing: readonly string[] = [],
): CheckedCombination {
  const fail = (pointer: string, message: string): never => {
    throw new CombineError(name, pointer, message);
  };
  try {
    checkAdapterName(name);
  } catch (error) {
    fail('/name', (error as Error).message);
  }
  if (existing.includes(name)) fail('/name', `an adapter named "${name}" already exists; allowed: a new name`);
  const known = [...shapes.keys()];
  if (!Array.isArray(options.adapters) || options.adapters.length === 0)
    fail('/adapters', `found ${JSON.stringify(options.adapters)}; allowed: one or more of ${known.join(', ')}`);
  options.adapters.forEach((source, i) => {
    if (!shapes.has(source)) fail(`/adapters/${i}`, `no adapter named ${JSON.stringify(source)}; allowed: ${known.join(', ')}`);
    if (options.adapters.indexOf(source) !== i) fail(`/adapters/${i}`, `adapter "${source}" is named twice`);
  });
  if (!Array.isArray(options.weights) || options.weights.length !== options.adapters.length) {
    fail('/weights', `found ${JSON.stringify(options.weights)}; allowed: ${options.adapters.length} finite numbers, one per adapter`);
  }
  options.weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w)) fail(`/weights/${i}`, `found ${JSON.stringify(w)}; allowed: a finite number`);
  });
  const requested = options.combination ?? 'svd';
  if (!COMBINATION_TYPES.includes(requested)) fail('/combination', `found ${JSON.stringify(requested)}; allowed: ${COMBINATION_TYPES.join(', ')}`);
  if (options.density !== undefined && !usesDensity(requested))
    fail('/density', `found ${options.density} for "${requested}"; density is used by ties, dare_linear, dare_ties, magnitude_prune and their _svd forms`);
  if (usesDensity(requested)) {
    const d = options.density;
    if (typeof d !== 'number' || !(d >= 0 && d <= 1))
      fail('/density', `found ${JSON.stringify(d)}; "${requested}" needs a density in [0, 1] (the fraction of values kept)`);
  }
  if (options.majoritySign !== undefined) {
    if (!MAJORITY_SIGN_METHODS.includes(options.majoritySign))
      fail('/majoritySign', `found ${JSON.stringify(options.majoritySign)}; allowed: ${MAJORITY_SIGN_METHODS.join(', ')}`);
    if (!usesSign(requested))
      fail('/majoritySign', `found "${options.majoritySign}" for "${requested}"; the majority sign is used by ties, dare_ties and their _svd forms`);
  }
  if (options.svdRank !== undefined) {
    if (!requested.endsWith('svd')) fail('/svdRank', `found ${options.svdRank} for "${requested}"; svdRank is used by the svd types`);
    if (!Number.isInteger(options.svdRank) || options.svdRank < 1) fail('/svdRank', `found ${JSON.stringify(options.svdRank)}; allowed: a positive integer`);
  }
  if (options.svdClamp !== undefined) {
    if (!requested.endsWith('svd')) fail('/svdClamp', `found ${options.svdClamp} for "${requested}"; svdClamp is used by the svd types`);
    if (typeof options.svdClamp !== 'number' || !(options.svdClamp >= 0 && options.svdClamp <= 1))
      fail('/svdClamp', `found ${JSON.stringify(options.svdClamp)}; allowed: a quantile in [0, 1]`);
  }
  if (options.seed !== undefined && !(Number.isInteger(options.seed) && options.seed >= 0))
    fail('/seed', `found ${JSON.stringify(options.seed)}; allowed: an integer ≥ 0`);
  const type: CombinationType = options.adapters.length === 1 ? 'linear' : requested;
  // Per site: the sources present must agree on the layer; variants other than plain LoRA (DoRA) are refused; the factor rules need equal ranks.
  const sites = new Map<string, Array<[string, SiteShape]>>();
  for (const source of options.adapters) {
    const other = [...shapes.get(source)!].find(([, s]) => s.variant !== PLAIN_LORA);
    if (other) {
      const { label } = loraVariant(other[1].variant);
      fail(
        '/adapters',
        `adapter "${source}" uses ${label} (site "${other[0]}"); combining ${label} adapters is not supported (PEFT's add_weighted_adapter combines the A and B factors only, so the ${label} tensors would be left behind)`,
      );
    }
    for (const [path, shape] of shapes.get(source)!) {
      const list = sites.get(path) ?? [];
      list.push([source, shape]);
      sites.set(path, list);
    }
  }
  let maxRank = 0;
  for (const [path, list] of sites) {
    const [first, shape] = list[0];
    for (const [source, other] of list) {
      maxRank = Math.max(maxRank, other.r);
      if (other.kind !== shape.kind || other.fanIn !== shape.fanIn || other.out !== shape.out) {
        fail(
          '/adapters',
          `site "${path}" is a ${shape.kind} [${shape.fanIn}, ${shape.out}] in "${first}" but a ${other.kind} [${other.fanIn}, ${other.out}] in "${source}"`,
        );
      }
    }
    if (FACTOR_RULES[type] !== undefined && new Set(list.map(([, s]) => s.r)).size > 1) {
      fail(
        '/adapters',
        `"${type}" combines A's and B's directly, so every adapter needs the same rank at each site; site "${path}" has ${list.map(([s, x]) => `r = ${x.r} in "${s}"`).join(', ')} (use "cat" or "svd" for different ranks)`,
      );
    }
  }
  const result = new Map<string, SiteShape>();
  const rankOf = (list: Array<[string, SiteShape]>, svdRank: number | null): number =>
    svdRank ?? (type === 'cat' ? list.reduce((n, [, s]) => n + s.r, 0) : list[0][1].r);
  if (!type.endsWith('svd')) {
    for (const [path, list] of sites) result.set(path, { ...list[0][1], variant: PLAIN_LORA, r: rankOf(list, null) });
    return { type, svdRank: null, sites: result };
  }
  const svdRank = options.svdRank ?? maxRank;
  for (const [path, list] of sites) {
    const k = Math.min(list[0][1].fanIn, list[0][1].out);
    if (svdRank > k) fail('/svdRank', `rank ${svdRank} exceeds min(fanIn, out) = ${k} at site "${path}"`);
    result.set(path, { ...list[0][1], variant: PLAIN_LORA, r: svdRank });
  }
  return { type, svdRank, sites: result };
}

/** A seeded 0/1 keep-mask with P(1) = density: one stream per site, factor and adapter. */
function seededMask(seed: number, density: number): NonNullable<CombineOptions['dareMask']> {
  return (site, factor, adapter, size) => {
    const rng = new Rng(seed).fork(`dare/${site}/${factor}/${adapter}`);
    const mask = new Uint8Array(size);
    for (let i = 0; i < size; i++) mask[i] = rng.next() < density ? 1 : 0;
    return mask;
  };
}

/**
 * Combines the adapters at every site (`factors`: site → adapter → factors; sites in the order given) as PEFT's
 * add_weighted_adapter does; `checkCombination` runs first against `available` (every adapter name that exists: the
 * sources must be among them, the new name must not). Arithmetic in float64, results rounded to float32.
 */
export function combineFactors(
  name: string,
  options: CombineOptions,
  factors: ReadonlyMap<string, ReadonlyMap<string, SiteFactors>>,
  available: readonly string[],
): CombinedSite[] {
  const shapes = new Map<string, Map<string, SiteShape>>();
  for (const [path, bySource] of factors) {
    for (const [source, f] of bySource) {
      const m = shapes.get(source) ?? new Map<string, SiteShape>();
      m.set(path, f);
      shapes.set(source, m);
    }
  }
  for (const source of available) if (!shapes.has(source)) shapes.set(source, new Map());
  const { type, svdRank } = checkCombination(name, options, shapes, available);
  const density = options.density;
  const maskOf = options.dareMask ?? seededMask(options.seed ?? 0, density ?? 1);
  const out: CombinedSite[] = [];
  for (const [path, bySource] of factors) {
    const present = options.adapters.flatMap((source, i) => {
      const f = bySource.get(source);
      return f ? [{ source, weight: options.weights[i], f }] : [];
    });
    if (present.length === 0) continue;
    const { kind, fanIn, out: width } = present[0].f;
    const dropout = present[0].f.dropout;
    const ruleOptions = (factor: DareFactor) => ({
      density,
      majoritySign: options.majoritySign,
      mask: (i: number, size: number) => maskOf(path, factor, present[i].source, size),
    });
    if (type === 'cat') {
      const r = present.reduce((n, p) => n + p.f.r, 0);
      const a = new Float32Array(fanIn * r);
      const b = new Float32Array(r * width);
      let offset = 0;
      for (const { weight, f } of present) {
        const scale = weight * f.scaling;
        for (let i = 0; i < fanIn; i++) for (let k = 0; k < f.r; k++) a[i * r + offset + k] = f.a[i * f.r + k] * scale; // A [fanIn, r]
        b.set(Float32Array.from(f.b), offset * width); // B rows offset..offset+rᵢ
        offset += f.r;
      }
      out.push({ path, kind, fanIn, out: width, r, dropout, a, b });
      continue;
    }
    const factorRule = FACTOR_RULES[type];
    if (factorRule !== undefined) {
      const r = present[0].f.r;
      const scaled = present.map((p) => p.weight * p.f.scaling);
      const weightsA = scaled.map((w) => Math.sqrt(Math.abs(w)) * (w >= 0 ? 1 : -1));
      const weightsB = scaled.map((w) => Math.sqrt(Math.abs(w)));
      const a = applyRule(
        factorRule,
        present.map((p) => Float64Array.from(p.f.a)),
        weightsA,
        ruleOptions('A'),
      );
      const b = applyRule(
        factorRule,
        present.map((p) => Float64Array.from(p.f.b)),
        weightsB,
        ruleOptions('B'),
      );
      out.push({ path, kind, fanIn, out: width, r, dropout, a: Float32Array.from(a), b: Float32Array.from(b) });
      continue;
    }
    const rank = svdRank!;
    const weights = present.map((p) => p.weight * p.f.scaling);
    const { a, b } =
      type === 'svd'
        ? lowRankSvd(
            present.map((p) => p.f),
            weights,
            fanIn,
            width,
            rank,
          )
        : denseSvd(
            applyRule(
              SVD_RULES[type],
              present.map((p) => deltaOf(p.f)),
              weights,
              ruleOptions('delta'),
            ),
            fanIn,
            width,
            rank,
          );
    if (options.svdClamp !== undefined) clampFactors(a, b, options.svdClamp);
    out.push({ path, kind, fanIn, out: width, r: rank, dropout, a: Float32Array.from(a), b: Float32Array.from(b) });
  }
  return out;
}

/** ΔW = s·A·B, [fanIn, out] row-major, float64 (PEFT's get_delta_weight). */
export function deltaOf(f: SiteFactors): Float64Array {
  const delta = new Float64Array(f.fanIn * f.out);
  for (let i = 0; i < f.fanIn; i++) {
    for (let k = 0; k < f.r; k++) {
      const aik = f.a[i * f.r + k] * f.scaling;
      if (aik === 0) continue;
      for (let j = 0; j < f.out; j++) delta[i * f.out + j] += aik * f.b[k * f.out + j]; // A [fanIn, r]·B [r, out]
    }
  }
  return delta;
}

/**
 * Top-k SVD factors of M [m, n] = U·S·Vᵀ: A = U_k [m, k], B = S_k·V_kᵀ [k, n] (PEFT: lora_B = U·S, lora_A = Vh of Mᵀ).
 * A singular pair's sign is arbitrary (LAPACK's in PEFT, ml-matrix's here); it is fixed so that the largest |value| of
 * each column of A (first on ties) is positive. A·B does not depend on it; svd_clamp's quantile does.
 */
function factorsFromSvd(u: Matrix, sigma: number[], v: Matrix, m: number, n: number, k: number): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(m * k);
  const b = new Float64Array(k * n);
  for (let c = 0; c < k; c++) {
    const s = sigma[c] ?? 0;
    let largest = 0;
    for (let i = 0; i < m; i++) {
      a[i * k + c] = c < u.columns ? u.get(i, c) : 0;
      if (Math.abs(a[i * k + c]) > Math.abs(largest)) largest = a[i * k + c];
    }
    const sign = largest < 0 ? -1 : 1;
    if (sign < 0) for (let i = 0; i < m; i++) a[i * k + c] = -a[i * k + c];
    for (let j = 0; j < n; j++) b[c * n + j] = c < v.columns ? sign * s * v.get(j, c) : 0;
  }
  return { a, b };
}

/** PEFT's svd_clamp: hi = torch.quantile(A's and B's values, q) (linear interpolation); both clamped to [−hi, hi] in place (torch.clamp: hi where −hi > hi). */
function clampFactors(a: Float64Array, b: Float64Array, q: number): void {
  const sorted = new Float64Array(a.length + b.length);
  sorted.set(a);
  sorted.set(b, a.length);
  sorted.sort();
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const hi = sorted[below] + (sorted[above] - sorted[below]) * (position - below);
  const lo = -hi;
  for (const values of [a, b]) for (let i = 0; i < values.length; i++) values[i] = Math.min(Math.max(values[i], lo), hi);
}

/** Truncated SVD of a dense M [m, n] (row-major float64), float64 (ml-matrix). */
function denseSvd(m: Float64Array, rows: number, cols: number, k: number): { a: Float64Array; b: Float64Array } {
  const matrix = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) matrix.set(i, j, m[i * cols + j]);
  const svd = new SingularValueDecomposition(matrix, { autoTranspose: true });
  return factorsFromSvd(svd.leftSingularVectors, svd.diagonal, svd.rightSingularVectors, rows, cols, k);
}

/**
 * Truncated SVD of M = Σ wᵢ·sᵢ·Aᵢ·Bᵢ without forming M: M = P·Q with P = [w₁s₁A₁ | …] [m, R], Q = [B₁; …] [R, n];
 * P = Q_p·R_p and Qᵀ = Q_q·R_q (thin QR), so M = Q_p·(R_p·R_qᵀ)·Q_qᵀ and the SVD of the small R_p·R_qᵀ [R, R] gives
 * M's. The same singular triplets as the dense SVD, at O((m + n)·R²) instead of O(m·n·min(m, n)). Falls back to the
 * dense SVD when R is not smaller than m and n.
 */
function lowRankSvd(factors: readonly SiteFactors[], weights: readonly number[], rows: number, cols: number, k: number): { a: Float64Array; b: Float64Array } {
  const total = factors.reduce((n, f) => n + f.r, 0);
  if (total >= rows || total >= cols) {
    const m = new Float64Array(rows * cols);
    factors.forEach((f, i) => {
      const d = deltaOf(f);
      for (let j = 0; j < m.length; j++) m[j] += weights[i] * d[j];
    });
    return denseSvd(m, rows, cols, k);
  }
  const p = new Matrix(rows, total);
  const qt = new Matrix(cols, total);
  let offset = 0;
  factors.forEach((f, i) => {
    const scale = weights[i] * f.scaling;
    for (let r = 0; r < rows; r++) for (let c = 0; c < f.r; c++) p.set(r, offset + c, f.a[r * f.r + c] * scale);
    for (let c = 0; c < f.r; c++) for (let j = 0; j < cols; j++) qt.set(j, offset + c, f.b[c * cols + j]);
    offset += f.r;
  });
  const qrP = new QrDecomposition(p);
  const qrQ = new QrDecomposition(qt);
  const core = qrP.upperTriangularMatrix.mmul(qrQ.upperTriangularMatrix.transpose()); // R_p [R, R] · R_qᵀ [R, R]
  const svd = new SingularValueDecomposition(core);
  const u = qrP.orthogonalMatrix.mmul(svd.leftSingularVectors); // Q_p [m, R] · U_c [R, R]
  const v = qrQ.orthogonalMatrix.mmul(svd.rightSingularVectors); // Q_q [n, R] · V_c [R, R]
  return factorsFromSvd(u, svd.diagonal, v, rows, cols, k);
}
