/**
 * PEFT's task-tensor merging rules (peft/utils/merge_utils.py), on flat float64 arrays of one shape: each "task tensor"
 * is one adapter's factor (or ΔW), all of equal length; `weights` holds one weight per task tensor.
 *
 * - task_arithmetic: Σ wᵢ·tᵢ
 * - magnitude_prune: Σ wᵢ·prune_magnitude(tᵢ)
 * - ties: prune_magnitude each, elect a sign per element, disjoint mean of the weighted values that agree with it
 * - dare_linear: Σ wᵢ·prune_random(tᵢ)/density
 * - dare_ties: prune_random/density each, then ties' sign election and disjoint mean
 *
 * prune_magnitude keeps the k = trunc(density·n) largest |values| (torch.topk; ties between equal magnitudes are kept
 * in index order here, where torch leaves the order unspecified). prune_random keeps each value with probability
 * `density` (torch.bernoulli in PEFT; here a 0/1 mask the caller supplies, see `DareMask`). density ≥ 1 prunes nothing,
 * as PEFT (which warns); density < 0 is refused.
 */

/** The majority-sign rule: "total" elects the sign of Σ tᵢ, "frequency" the sign of Σ sign(tᵢ) (0 counts as +). */
export type MajoritySignMethod = 'total' | 'frequency';
export const MAJORITY_SIGN_METHODS: readonly MajoritySignMethod[] = ['total', 'frequency'];

/** The per-tensor rules add_weighted_adapter applies ("linear" is task arithmetic). */
export type TaskRule = 'linear' | 'ties' | 'dare_linear' | 'dare_ties' | 'magnitude_prune';

/** DARE's keep-mask for task tensor `index` (length `size`, entries 0 or 1). */
export type DareMask = (index: number, size: number) => ArrayLike<number>;

/** Keeps the k = trunc(density·n) entries of largest magnitude (PEFT's magnitude_based_pruning); a new array. */
export function magnitudePrune(t: Float64Array, density: number): Float64Array {
  checkDensity(density);
  if (density >= 1) return Float64Array.from(t);
  const k = Math.trunc(density * t.length); // Python int(density * numel)
  const order = Array.from(t.keys()).sort((i, j) => Math.abs(t[j]) - Math.abs(t[i]) || i - j);
  const out = new Float64Array(t.length);
  for (let n = 0; n < k; n++) out[order[n]] = t[order[n]];
  return out;
}

/** DARE's random pruning with rescaling: t ⊙ mask / density (PEFT's random_pruning(rescale=True)); a new array. */
export function randomPrune(t: Float64Array, density: number, mask: ArrayLike<number>): Float64Array {
  checkDensity(density);
  if (density >= 1) return Float64Array.from(t);
  if (mask.length !== t.length) throw new Error(`DARE mask has ${mask.length} entries, the tensor ${t.length}`);
  const out = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const keep = mask[i];
    if (keep !== 0 && keep !== 1) throw new Error(`DARE mask entry ${i} is ${keep}; allowed: 0 or 1`);
    out[i] = (t[i] * keep) / density;
  }
  return out;
}

function checkDensity(density: number): void {
  if (!(Number.isFinite(density) && density >= 0)) throw new Error(`density must be a number ≥ 0 (PEFT prunes nothing at ≥ 1), got ${density}`);
}

/** Σ wᵢ·tᵢ (PEFT's task_arithmetic). */
export function taskArithmetic(tensors: readonly Float64Array[], weights: readonly number[]): Float64Array {
  const out = new Float64Array(tensors[0].length);
  tensors.forEach((t, k) => {
    for (let i = 0; i < out.length; i++) out[i] += weights[k] * t[i];
  });
  return out;
}

/**
 * PEFT's calculate_majority_sign_mask + disjoint_merge on already pruned tensors: per element the elected sign is
 * + where Σ tᵢ ≥ 0 ("total") or Σ sign(tᵢ) ≥ 0 ("frequency"), else −; the result is the sum of the weighted values whose
 * sign equals the elected one, divided by how many there are (at least 1). Zeros never match a sign.
 */
export function disjointMerge(pruned: readonly Float64Array[], weights: readonly number[], method: MajoritySignMethod): Float64Array {
  const n = pruned[0].length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let magnitude = 0;
    for (const t of pruned) magnitude += method === 'total' ? t[i] : Math.sign(t[i]);
    const elected = magnitude >= 0 ? 1 : -1;
    let sum = 0;
    let count = 0;
    pruned.forEach((t, k) => {
      if (Math.sign(t[i]) !== elected) return;
      sum += weights[k] * t[i];
      count += 1;
    });
    out[i] = sum / Math.max(count, 1);
  }
  return out;
}

export interface RuleOptions {
  density?: number;
  majoritySign?: MajoritySignMethod;
  /** DARE only: the keep-mask of each task tensor. */
  mask?: DareMask;
}

/** One of PEFT's rules on a list of task tensors (merge_utils.py task_arithmetic, ties, dare_linear, dare_ties, magnitude_prune). */
export function applyRule(rule: TaskRule, tensors: readonly Float64Array[], weights: readonly number[], options: RuleOptions = {}): Float64Array {
  const length = tensors[0]?.length;
  if (length === undefined || tensors.some((t) => t.length !== length)) throw new Error('task tensors must be one or more arrays of one length');
  if (weights.length !== tensors.length) throw new Error(`${tensors.length} task tensors but ${weights.length} weights`);
  if (rule === 'linear') return taskArithmetic(tensors, weights);
  const density = options.density;
  if (density === undefined) throw new Error(`combination "${rule}" needs a density in [0, 1]`);
  const method = options.majoritySign ?? 'total';
  if (rule === 'magnitude_prune' || rule === 'ties') {
    const pruned = tensors.map((t) => magnitudePrune(t, density));
    return rule === 'ties' ? disjointMerge(pruned, weights, method) : taskArithmetic(pruned, weights);
  }
  checkDensity(density);
  const mask = options.mask;
  if (!mask) throw new Error(`combination "${rule}" needs a DARE mask source`);
  const pruned = tensors.map((t, i) => (density >= 1 ? Float64Array.from(t) : randomPrune(t, density, mask(i, t.length))));
  return rule === 'dare_ties' ? disjointMerge(pruned, weights, method) : taskArithmetic(pruned, weights);
}
