import type { Rng } from '@rankwise/models';

/** How the next token is chosen, in Hugging Face `generate`'s terms. Greedy (argmax) unless `sample`. */
export interface SamplingOptions {
  /** Draw from the distribution (HF do_sample); false: the most likely token (greedy). */
  sample: boolean;
  /** Divides the logits (HF TemperatureLogitsWarper); 1 leaves them. */
  temperature: number;
  /** Keep the k most likely tokens, ties at the k-th value included (HF TopKLogitsWarper); 0: off. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches top_p (HF TopPLogitsWarper); 1: off. */
  topP: number;
  /** Drop tokens less likely than min_p × the most likely one's probability (HF MinPLogitsWarper); 0: off. */
  minP: number;
  /** Logits of tokens already in the sequence: divided by it when positive, multiplied when negative (HF RepetitionPenaltyLogitsProcessor, CTRL); 1: off. */
  repetitionPenalty: number;
}

export const GREEDY: SamplingOptions = { sample: false, temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

/**
 * The next token from one row's logits, with HF generate's processors in its order: repetition penalty (also when
 * greedy), then for sampling temperature, top-k, top-p, min-p, softmax and one draw. `banned` ids are never chosen
 * (the unknown character, ids beyond the vocabulary). `logits` is not modified.
 */
export function chooseToken(
  logits: ArrayLike<number>,
  previous: readonly number[],
  options: SamplingOptions,
  rng: Rng,
  banned: (id: number) => boolean = () => false,
): number {
  if (!options.sample && options.repetitionPenalty === 1) {
    // greedy without a penalty: argmax over the allowed ids, no copy
    let best = -1;
    for (let i = 0; i < logits.length; i++) if ((best < 0 || logits[i] > logits[best]) && !banned(i)) best = i;
    if (best < 0) throw new Error('every token is excluded: nothing to choose');
    return best;
  }
  const scores = Float64Array.from(logits as ArrayLike<number>);
  for (let i = 0; i < scores.length; i++) if (banned(i)) scores[i] = -Infinity;
  if (options.repetitionPenalty !== 1) {
    for (const id of new Set(previous)) {
      if (id < 0 || id >= scores.length) continue;
      scores[id] = scores[id] < 0 ? scores[id] * options.repetitionPenalty : scores[id] / options.repetitionPenalty;
    }
  }
  if (!options.sample) return argmax(scores);
  if (options.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= options.temperature;
  // Candidates, most likely first (ties: lower id first); -Infinity ones are out.
  let order = Array.from(scores.keys())
    .filter((i) => scores[i] > -Infinity)
    .sort((a, b) => scores[b] - scores[a] || a - b);
  if (order.length === 0) throw new Error('every token is excluded: nothing to sample');
  if (options.topK > 0 && options.topK < order.length) {
    const kth = scores[order[options.topK - 1]];
    order = order.filter((i) => scores[i] >= kth);
  }
  let probs = softmaxOf(order, scores);
  if (options.topP < 1) {
    // HF sorts ascending and removes tokens whose cumulative probability is ≤ 1 − top_p, keeping at least one: the
    // same as keeping, most likely first, every token until the mass before it reaches top_p.
    let mass = 0;
    let keep = 0;
    while (keep < order.length && (keep === 0 || mass < options.topP)) mass += probs[keep++];
    order = order.slice(0, keep);
    probs = softmaxOf(order, scores);
  }
  if (options.minP > 0) {
    const threshold = options.minP * probs[0];
    const kept = order.filter((_, k) => probs[k] >= threshold);
    order = kept.length > 0 ? kept : order.slice(0, 1);
    probs = softmaxOf(order, scores);
  }
  let u = rng.next();
  for (let k = 0; k < order.length; k++) {
    u -= probs[k];
    if (u < 0) return order[k];
  }
  return order[order.length - 1];
}

function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** softmax over the listed ids (their scores), in the listed order. */
function softmaxOf(ids: readonly number[], scores: Float64Array): number[] {
  const max = scores[ids[0]];
  const weights = ids.map((i) => Math.exp(scores[i] - max));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}
