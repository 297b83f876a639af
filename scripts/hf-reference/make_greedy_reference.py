#!/usr/bin/env python3
"""Greedy-decoding reference for rankwise's generator (issue 21), on the tiny fixtures of make_llama_reference.py.

Needs only PyTorch (Debian python3-torch). The forward pass is make_llama_reference.py's (transformers'
LlamaForCausalLM / Qwen2ForCausalLM semantics, float64); decoding is transformers' greedy search: at every step the
logits of the last position, through RepetitionPenaltyLogitsProcessor when a penalty is set (a token already in the
sequence, prompt included, has its logit divided by the penalty when positive, multiplied when negative), then argmax.
Each step recomputes the whole sequence (no cache), so the reference is independent of rankwise's KV cache.
It records, per step, the margin between the best and the second-best logit, so a test failure can be told apart from
a near-tie.

Usage: make_greedy_reference.py [--fixtures test/fixtures/hf] [--out test/fixtures/hf/greedy-reference.json]
"""
import argparse, json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_llama_reference import adapter_deltas, forward, read_checkpoint  # noqa: E402

NEW_TOKENS = 40


def greedy(config, weights, prompt, new, deltas=None, penalty=1.0):
    ids = list(prompt)
    out, margins = [], []
    for _ in range(new):
        logits = forward(config, weights, torch.tensor([ids]), deltas)[0, -1].clone()
        if penalty != 1.0:
            for t in set(ids):
                logits[t] = logits[t] / penalty if logits[t] > 0 else logits[t] * penalty
        top = torch.topk(logits, 2)
        margins.append(float(top.values[0] - top.values[1]))
        token = int(top.indices[0])
        ids.append(token)
        out.append(token)
    return out, min(margins)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--fixtures', default=os.path.normpath(os.path.join(here, '..', '..', 'test', 'fixtures', 'hf')))
    ap.add_argument('--out')
    args = ap.parse_args()
    torch.set_num_threads(1)
    ref = json.load(open(os.path.join(args.fixtures, 'reference.json')))
    prompts = [ref['sentenceIds'][:10], ref['ids'][1], ref['sentenceIds'][3:6]]
    cases = []
    for model, adapter, penalty in [('llama-tiny', None, 1.0), ('qwen2-tiny', None, 1.0), ('llama-tiny', 'adapter-qv', 1.0),
                                    ('llama-tiny', None, 1.3), ('qwen2-tiny', 'adapter-mlp-rslora', 1.0)]:
        config, weights = read_checkpoint(os.path.join(args.fixtures, model))
        deltas = adapter_deltas(config, os.path.join(args.fixtures, adapter)) if adapter else None
        for prompt in prompts:
            tokens, margin = greedy(config, weights, prompt, NEW_TOKENS, deltas, penalty)
            cases.append({'model': model, 'adapter': adapter, 'repetitionPenalty': penalty, 'prompt': prompt,
                          'tokens': tokens, 'minTop2Margin': round(margin, 6)})
    out = args.out or os.path.join(args.fixtures, 'greedy-reference.json')
    json.dump({'source': 'scripts/hf-reference/make_greedy_reference.py', 'newTokens': NEW_TOKENS, 'cases': cases},
              open(out, 'w'), indent=1)
    print(f'wrote {out}: {len(cases)} cases; smallest top-2 margin {min(c["minTop2Margin"] for c in cases):.4g}')


if __name__ == '__main__':
    main()
