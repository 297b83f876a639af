#!/usr/bin/env python3
"""Reference numbers for rankwise's add_weighted_adapter, re-implementing PEFT's combination rules in float64 PyTorch.

PEFT cannot be installed where rankwise's CI runs (no PyPI), so this script re-implements, from reading PEFT's source,
what `LoraModel.add_weighted_adapter` does (peft/tuners/lora/model.py: _check_add_weighted_adapter,
_generalized_task_arithmetic_weighted_adapter, _svd_generalized_task_arithmetic_weighted_adapter) and the rules of
peft/utils/merge_utils.py (task_arithmetic, magnitude_prune, ties, dare_linear, dare_ties, calculate_majority_sign_mask,
disjoint_merge). Everything here works in PEFT's layouts: Linear lora_A [r, in], lora_B [out, r], ΔW = s·B·A [out, in];
Embedding lora_embedding_A [r, n], lora_embedding_B [d, r], get_delta_weight = (B·A)ᵀ·s [n, d].

It writes three small PEFT adapters for one tiny model (sites: "emb" an Embedding 16×12, "proj" a Linear 12→10,
"head" a Linear 10→14; sizes chosen so that rankwise's low-rank SVD path and its dense fallback both run) under test/fixtures/adapters/{a,b,c}/ (adapter_config.json + adapter_model.safetensors, float32):
  a: r 4, lora_alpha 8 on emb, proj, head
  b: r 4, lora_alpha 6, use_rslora (s = 6/√4 = 3) on emb, proj, head
  c: r 2, lora_alpha 2 on proj only
and test/fixtures/adapters/combine-reference.json: for each combination case the combined factors and ΔW = A·B per
site, in rankwise's layout (A [fanIn, r], B [r, out], ΔW [fanIn, out]; the new adapter has lora_alpha = r, scaling 1).

DARE draws its keep-masks with torch.bernoulli, which rankwise cannot reproduce; so the DARE masks used here are drawn
by this script (seeded) and written to the JSON in rankwise's layout ("masks": case → site → factor → adapter), and
rankwise's test feeds the same masks to its implementation. SVD factors are unique only up to sign: compare ΔW.

Run:  /usr/bin/python3 scripts/peft-reference/combine.py   (Debian: apt-get install python3-torch)
"""
import json
import math
import os
import struct

import torch

torch.manual_seed(20260521)
f64 = torch.float64
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "adapters")

# site → (kind, fan_in, out): Embedding n×d has fan_in n, out d
SITES = {"emb": ("embedding", 16, 12), "proj": ("linear", 12, 10), "head": ("linear", 10, 14)}
ADAPTERS = {
    "a": {"r": 4, "alpha": 8, "rslora": False, "sites": ["emb", "proj", "head"]},
    "b": {"r": 4, "alpha": 6, "rslora": True, "sites": ["emb", "proj", "head"]},
    "c": {"r": 2, "alpha": 2, "rslora": False, "sites": ["proj"]},
}


def f32(t):
    """Rounded to float32, kept as float64 so that later arithmetic is float64 on exactly the stored numbers."""
    return t.float().double()


def scaling(cfg):
    return cfg["alpha"] / math.sqrt(cfg["r"]) if cfg["rslora"] else cfg["alpha"] / cfg["r"]


# ---- fixture adapters (PEFT layout) ---------------------------------------------------------------------------------
def make_factors():
    factors = {}
    for name, cfg in ADAPTERS.items():
        r = cfg["r"]
        factors[name] = {}
        for site in cfg["sites"]:
            kind, fan_in, out = SITES[site]
            if kind == "linear":
                a = f32(torch.randn(r, fan_in, dtype=f64) * 0.5)  # lora_A.weight [r, in]
                b = f32(torch.randn(out, r, dtype=f64) * 0.5)  # lora_B.weight [out, r]
            else:
                a = f32(torch.randn(r, fan_in, dtype=f64) * 0.5)  # lora_embedding_A [r, n]
                b = f32(torch.randn(out, r, dtype=f64) * 0.5)  # lora_embedding_B [d, r]
            factors[name][site] = (a, b)
    return factors


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        data = t.float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_adapter(name, cfg, site_factors):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    tensors = []
    for site, (a, b) in site_factors.items():
        kind = SITES[site][0]
        if kind == "linear":
            tensors += [(f"base_model.model.{site}.lora_A.weight", a), (f"base_model.model.{site}.lora_B.weight", b)]
        else:
            tensors += [(f"base_model.model.{site}.lora_embedding_A", a), (f"base_model.model.{site}.lora_embedding_B", b)]
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors)
    config = {
        "peft_type": "LORA", "task_type": None, "base_model_name_or_path": None, "r": cfg["r"], "lora_alpha": cfg["alpha"],
        "lora_dropout": 0.0, "use_rslora": cfg["rslora"], "use_dora": False, "init_lora_weights": True, "bias": "none",
        "target_modules": sorted(site_factors.keys()), "rank_pattern": {}, "alpha_pattern": {}, "fan_in_fan_out": False,
        "modules_to_save": None, "layers_to_transform": None, "layers_pattern": None,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


# ---- merge_utils.py, with DARE's mask given -------------------------------------------------------------------------
def prune(tensor, density, method, mask=None):
    if density >= 1:
        return tensor
    if density < 0:
        raise ValueError(f"Density should be >= 0, got {density}")
    if method == "magnitude":  # magnitude_based_pruning
        keep = torch.zeros_like(tensor).reshape(-1)
        k = int(density * tensor.numel())
        top_k = torch.topk(tensor.abs().reshape(-1), k=k, largest=True)
        keep[top_k[1]] = 1
        return tensor * keep.reshape(tensor.shape)
    # random_pruning(rescale=True): the mask stands in for torch.bernoulli(full_like(tensor, density))
    return tensor * mask / density


def majority_sign_mask(tensor, method):
    sign = tensor.sign()
    magnitude = tensor.sum(dim=0) if method == "total" else sign.sum(dim=0)
    majority = torch.where(magnitude >= 0, 1.0, -1.0).to(f64)
    return sign == majority


def disjoint_merge(weighted, mask):
    return (weighted * mask).sum(dim=0) / torch.clamp(mask.sum(dim=0), min=1.0)


def with_weights(stack, weights):
    return stack * weights.view(weights.shape + (1,) * (stack.dim() - 1))


def rule(kind, tensors, weights, density=None, sign="total", masks=None):
    if kind == "linear":  # task_arithmetic
        return with_weights(torch.stack(tensors), weights).sum(dim=0)
    if kind in ("ties", "magnitude_prune"):
        pruned = torch.stack([prune(t, density, "magnitude") for t in tensors])
    else:
        pruned = torch.stack([prune(t, density, "random", masks[i]) for i, t in enumerate(tensors)])
    weighted = with_weights(pruned, weights)
    if kind in ("magnitude_prune", "dare_linear"):
        return weighted.sum(dim=0)
    return disjoint_merge(weighted, majority_sign_mask(pruned, sign))  # ties, dare_ties


# ---- model.py add_weighted_adapter, per site --------------------------------------------------------------------------
def delta_weight(site, a, b, s):
    """get_delta_weight: Linear B·A·s [out, in]; Embedding (B·A)ᵀ·s [n, d]."""
    return (b @ a) * s if SITES[site][0] == "linear" else (b @ a).T * s


def combine(factors, case):
    adapters, weights, ctype = case["adapters"], case["weights"], case["type"]
    if len(adapters) == 1:
        ctype = "linear"
    ranks = [ADAPTERS[n]["r"] for n in adapters]
    if ctype in ("linear", "ties", "dare_ties", "dare_linear", "magnitude_prune"):
        assert len(set(ranks)) == 1, "All adapters must have the same r value"
        new_rank = ranks[0]
    elif ctype == "cat":
        new_rank = sum(ranks)
    else:
        new_rank = case.get("svd_rank") or max(ranks)
    out = {}
    for site in SITES:
        present = [(n, w) for n, w in zip(adapters, weights) if site in factors[n]]
        if not present:
            continue
        kind = SITES[site][0]
        masks = case.get("masks_peft", {}).get(site, {})
        if ctype == "cat":
            As = [factors[n][site][0] * w * scaling(ADAPTERS[n]) for n, w in present]
            Bs = [factors[n][site][1] for n, _ in present]
            a_new, b_new = torch.cat(As, dim=0), torch.cat(Bs, dim=1)
            # PEFT sizes the new adapter at the summed rank of all sources and leaves missing rows zero
            r_site = sum(ADAPTERS[n]["r"] for n, _ in present)
        elif ctype.endswith("svd"):
            deltas = [delta_weight(site, *factors[n][site], scaling(ADAPTERS[n])) for n, _ in present]
            w = torch.tensor([wt * scaling(ADAPTERS[n]) for n, wt in present], dtype=f64)  # weight · scaling, again
            base_rule = {"svd": "linear", "ties_svd": "ties", "dare_linear_svd": "dare_linear", "dare_ties_svd": "dare_ties", "magnitude_prune_svd": "magnitude_prune"}[ctype]
            delta = rule(base_rule, deltas, w, case.get("density"), case.get("sign", "total"), [masks.get("delta", {}).get(n) for n, _ in present])
            if kind == "embedding":
                delta = delta.T
            U, S, Vh = torch.linalg.svd(delta, full_matrices=True)
            U = U[:, :new_rank] @ torch.diag(S[:new_rank])
            Vh = Vh[:new_rank, :]
            # A singular pair's sign is LAPACK's choice; rankwise fixes it (the largest |value| of each lora_A row, first
            # on ties, positive), and so does this reference: ΔW does not depend on it, svd_clamp's quantile does.
            flip = torch.sign(Vh.gather(1, Vh.abs().argmax(dim=1, keepdim=True)))
            flip[flip == 0] = 1
            Vh, U = Vh * flip, U * flip.T
            if case.get("svd_clamp") is not None:  # PEFT: dist = cat(U·S, Vh); hi = quantile(dist, clamp); both clamped to ±hi
                dist = torch.cat([U.flatten(), Vh.flatten()])
                hi_val = torch.quantile(dist, case["svd_clamp"])
                U, Vh = U.clamp(-hi_val, hi_val), Vh.clamp(-hi_val, hi_val)
            b_new, a_new = U, Vh
            r_site = new_rank
        else:
            wA, wB = [], []
            for n, wt in present:
                ws = wt * scaling(ADAPTERS[n])
                sgn = 1 if ws >= 0 else -1
                wA.append(math.sqrt(abs(ws)) * sgn)
                wB.append(math.sqrt(abs(ws)))
            As = [factors[n][site][0] for n, _ in present]
            Bs = [factors[n][site][1] for n, _ in present]
            a_new = rule(ctype, As, torch.tensor(wA, dtype=f64), case.get("density"), case.get("sign", "total"), [masks.get("A", {}).get(n) for n, _ in present])
            b_new = rule(ctype, Bs, torch.tensor(wB, dtype=f64), case.get("density"), case.get("sign", "total"), [masks.get("B", {}).get(n) for n, _ in present])
            r_site = new_rank
        out[site] = (a_new, b_new, r_site)
    return out


def to_rankwise(site, a, b):
    """PEFT lora_A [r, fanIn] / lora_B [out, r] (embedding: [r, n] / [d, r]) → rankwise A [fanIn, r], B [r, out]."""
    return a.T, b.T


def entry(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def draw_masks(case, factors):
    """DARE keep-masks, drawn here in rankwise layout; returned also in PEFT layout for this script's own use."""
    density = case["density"]
    svd = case["type"].endswith("svd")
    rw, peft = {}, {}
    for site in SITES:
        kind = SITES[site][0]
        for n in case["adapters"]:
            if site not in factors[n]:
                continue
            a, b = factors[n][site]
            fan_in, out = SITES[site][1], SITES[site][2]
            shapes = {"delta": (fan_in, out)} if svd else {"A": tuple(a.T.shape), "B": tuple(b.T.shape)}
            for factor, shape in shapes.items():
                mask = torch.bernoulli(torch.full(shape, density, dtype=f64))
                rw.setdefault(site, {}).setdefault(factor, {})[n] = entry(mask)
                # PEFT layout: A, B transposed; ΔW of a Linear is [out, in] (transposed), of an Embedding [n, d] (as is)
                as_peft = mask if (factor == "delta" and kind == "embedding") else mask.T
                peft.setdefault(site, {}).setdefault(factor, {})[n] = as_peft
    return rw, peft


CASES = [
    {"id": "linear", "type": "linear", "adapters": ["a", "b"], "weights": [0.7, -0.4]},
    {"id": "linear-one", "type": "svd", "adapters": ["b"], "weights": [1.5]},
    {"id": "cat", "type": "cat", "adapters": ["a", "b", "c"], "weights": [0.5, 0.3, 1.2]},
    {"id": "svd", "type": "svd", "adapters": ["a", "b", "c"], "weights": [0.6, 0.8, -0.5]},
    {"id": "svd-rank3", "type": "svd", "adapters": ["a", "b"], "weights": [1.0, 0.5], "svd_rank": 3},
    {"id": "ties", "type": "ties", "adapters": ["a", "b"], "weights": [0.8, 0.6], "density": 0.5},
    {"id": "ties-frequency", "type": "ties", "adapters": ["a", "b"], "weights": [0.8, -0.6], "density": 0.7, "sign": "frequency"},
    {"id": "magnitude_prune", "type": "magnitude_prune", "adapters": ["a", "b"], "weights": [0.9, 0.4], "density": 0.4},
    {"id": "dare_linear", "type": "dare_linear", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.6},
    {"id": "dare_ties", "type": "dare_ties", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.6, "sign": "frequency"},
    {"id": "ties_svd", "type": "ties_svd", "adapters": ["a", "b", "c"], "weights": [0.7, 0.5, 0.9], "density": 0.5},
    {"id": "dare_ties_svd", "type": "dare_ties_svd", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.5},
    {"id": "dare_linear_svd", "type": "dare_linear_svd", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.5},
    {"id": "magnitude_prune_svd", "type": "magnitude_prune_svd", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.3, "svd_rank": 2},
    {"id": "svd-clamp", "type": "svd", "adapters": ["a", "b", "c"], "weights": [0.6, 0.8, -0.5], "svd_clamp": 0.9},
    {"id": "ties_svd-clamp", "type": "ties_svd", "adapters": ["a", "b"], "weights": [0.7, 0.5], "density": 0.5, "svd_rank": 3, "svd_clamp": 0.75},
]


def main():
    factors = make_factors()
    for name, cfg in ADAPTERS.items():
        write_adapter(name, cfg, factors[name])
    cases = []
    for case in CASES:
        masks_rw = None
        if case["type"].startswith("dare"):
            masks_rw, case["masks_peft"] = draw_masks(case, factors)
        combined = combine(factors, case)
        sites = {}
        for site, (a, b, r) in combined.items():
            a_rw, b_rw = to_rankwise(site, a, b)
            sites[site] = {"r": r, "a": entry(a_rw), "b": entry(b_rw), "delta": entry(a_rw @ b_rw)}
        out = {k: v for k, v in case.items() if k != "masks_peft"}
        if masks_rw is not None:
            out["masks"] = masks_rw
        out["sites"] = sites
        cases.append(out)
    scalings = {n: scaling(cfg) for n, cfg in ADAPTERS.items()}
    with open(os.path.join(OUT, "combine-reference.json"), "w") as f:
        json.dump({"generator": "scripts/peft-reference/combine.py", "torch": torch.__version__, "scaling": scalings, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(ADAPTERS)} adapters and {len(cases)} cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
