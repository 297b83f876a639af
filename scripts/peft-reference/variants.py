#!/usr/bin/env python3
"""Reference values for rankwise's LoRA variants, from PyTorch, following PEFT's formulas.

PEFT cannot be installed where rankwise's CI runs (no PyPI), so this script re-implements the few PEFT formulas the
variants use, in float64 PyTorch, each next to the PEFT function it follows (peft/tuners/lora/layer.py, dora.py,
peft_model.py, optimizers/loraplus.py):

- DoRA (use_dora=True): magnitude init ‖W + s·B·A‖ per output row (torch.linalg.norm(weight, dim=1)); forward
  base(x) + (m/‖·‖ − 1)·(x·Wᵀ) + (m/‖·‖)·s·(x·Aᵀ·Bᵀ) with the norm detached; merge (m/‖W + ΔW‖)·(W + ΔW).
- PiSSA (init_lora_weights="pissa"): V, S, Uh = svd(W); lora_A = diag(√(S_r/s))·Uh_r, lora_B = V_r·diag(√(S_r/s));
  the base keeps W − s·lora_B·lora_A.
- OLoRA (init_lora_weights="olora"): Q, R = qr(W); lora_A = R[:r], lora_B = Q[:, :r]; base W − s·lora_B·lora_A.
- Conversion (save_pretrained(path_initial_model_for_weight_conversion=…), subtract_mutated_init): lora_A' =
  cat([A, A₀], 0), lora_B' = cat([B, −B₀], 1), r' = 2r, lora_alpha' = 2α (×√2 with rsLoRA).
- LoRA+ (create_loraplus_optimizer): Adam with lora_A at lr and lora_B at lr·ratio.

Everything is written in rankwise's layout (W [in, out], A [in, r], B [r, out]) unless a key says "peft". Inputs are
rounded to float32 first, so rankwise reads exactly the numbers used here; outputs are float64.

Run:  python3 scripts/peft-reference/variants.py  (Debian: apt-get install python3-torch)
Writes test/fixtures/variants/peft-reference.json.
"""
import json
import math
import os

import torch

torch.manual_seed(20240611)
f64 = torch.float64


def f32(t):
    """Rounded to float32, kept as float64 so later arithmetic is exact float64."""
    return t.float().double()


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def entry(t):
    return {"shape": list(t.shape), "data": flat(t)}


def rnd(*shape, scale=1.0):
    return f32(torch.randn(*shape, dtype=f64) * scale)


# ---- DoRA ---------------------------------------------------------------------------------------------------------
def dora_case(n_in, n_out, r, alpha, n, rslora=False):
    s = alpha / math.sqrt(r) if rslora else alpha / r
    w = rnd(n_out, n_in, scale=0.5)  # PEFT layout [out, in]
    bias = rnd(n_out, scale=0.1)
    a = rnd(r, n_in, scale=0.4).requires_grad_()
    b = rnd(n_out, r, scale=0.4).requires_grad_()
    x = rnd(n, n_in)
    g = rnd(n, n_out)  # loss = Σ y ⊙ g
    # dora.py DoraLinearLayer.get_weight_norm: norm of (W + s·B·A) over dim=1 (per output)
    def weight_norm(bb, aa):
        return torch.linalg.norm(w + s * (bb @ aa), dim=1)
    m_init = weight_norm(b.detach(), a.detach())  # DoraLinearLayer.update_layer
    m = f32(m_init * (1 + 0.3 * torch.randn(n_out, dtype=f64))).requires_grad_()  # a trained-looking magnitude
    # dora.py DoraLinearLayer.forward (base_result given, i.e. no dropout): weight_norm detached
    norm = weight_norm(b, a).detach()
    scale = m / norm
    base_result = x @ w.T
    lora_result = (x @ a.T) @ b.T
    y = (base_result + bias) + (scale - 1) * base_result + scale * lora_result * s
    (y * g).sum().backward()
    # layer.py Linear.merge with DoRA: dora_factor = m / ‖W + ΔW‖, W ← dora_factor · (W + ΔW)
    delta = s * (b.detach() @ a.detach())
    merged = (m.detach() / torch.linalg.norm(w + delta, dim=1)).view(-1, 1) * (w + delta)
    return {
        "in": n_in, "out": n_out, "r": r, "alpha": alpha, "rslora": rslora, "scaling": s,
        "w": entry(w.T), "bias": entry(bias), "a": entry(a.detach().T), "b": entry(b.detach().T),
        "magnitude": entry(m.detach()), "x": entry(x), "g": entry(g),
        "initialMagnitude": entry(m_init), "y": entry(y.detach()), "merged": entry(merged.T),
        "gradA": entry(a.grad.T), "gradB": entry(b.grad.T), "gradMagnitude": entry(m.grad),
    }


# ---- PiSSA / OLoRA --------------------------------------------------------------------------------------------------
def pissa(w_peft, r, s):
    # layer.py LoraLayer.pissa_init (init_lora_weights == "pissa")
    v, sv, uh = torch.linalg.svd(w_peft, full_matrices=False)
    vr, sr, uhr = v[:, :r], sv[:r] / s, uh[:r]
    lora_a = torch.diag(torch.sqrt(sr)) @ uhr
    lora_b = vr @ torch.diag(torch.sqrt(sr))
    return lora_a, lora_b, w_peft - s * lora_b @ lora_a


def olora(w_peft, r, s):
    # layer.py LoraLayer.olora_init
    q, rr = torch.linalg.qr(w_peft)
    lora_a, lora_b = rr[:r], q[:, :r]
    return lora_a, lora_b, w_peft - s * lora_b @ lora_a


def init_case(kind, n_in, n_out, r, alpha, rslora=False):
    s = alpha / math.sqrt(r) if rslora else alpha / r
    w = rnd(n_out, n_in, scale=0.5)
    lora_a, lora_b, residual = (pissa if kind == "pissa" else olora)(w, r, s)
    return {
        "init": kind, "in": n_in, "out": n_out, "r": r, "alpha": alpha, "rslora": rslora, "scaling": s,
        "w": entry(w.T), "a": entry(lora_a.T), "b": entry(lora_b.T), "residual": entry(residual.T),
        "delta": entry((s * lora_b @ lora_a).T),
    }


def conversion_case(kind, n_in, n_out, r, alpha, rslora):
    s = alpha / math.sqrt(r) if rslora else alpha / r
    w = rnd(n_out, n_in, scale=0.5)
    a0, b0, residual = (pissa if kind == "pissa" else olora)(w, r, s)
    a0, b0, residual = f32(a0), f32(b0), f32(residual)  # what a float32 model holds after init
    a = f32(a0 + rnd(r, n_in, scale=0.05))  # "trained"
    b = f32(b0 + rnd(n_out, r, scale=0.05))
    # peft_model.py save_pretrained(path_initial_model_for_weight_conversion=…) → subtract_mutated_init
    lora_a = torch.cat([a, a0], dim=0)  # [2r, in]
    lora_b = torch.cat([b, -b0], dim=1)  # [out, 2r]
    new_alpha = alpha * 2 ** 0.5 if rslora else alpha * 2
    new_s = new_alpha / math.sqrt(2 * r) if rslora else new_alpha / (2 * r)
    tuned = residual + s * b @ a  # what the trained model computes with
    from_original = w + new_s * lora_b @ lora_a  # the converted adapter on the original base
    return {
        "init": kind, "in": n_in, "out": n_out, "r": r, "alpha": alpha, "rslora": rslora,
        "w": entry(w.T), "a0": entry(a0.T), "b0": entry(b0.T), "residual": entry(residual.T),
        "a": entry(a.T), "b": entry(b.T),
        "peftLoraA": entry(lora_a), "peftLoraB": entry(lora_b), "peftR": 2 * r, "peftAlpha": new_alpha,
        "tunedWeight": entry(tuned.T), "maxAbsGap": float((tuned - from_original).abs().max()),
    }


# ---- LoRA+ -----------------------------------------------------------------------------------------------------------
def loraplus_case(n_in, n_out, r, alpha, n, lr, ratio, steps):
    s = alpha / r
    w = rnd(n_out, n_in, scale=0.5)
    a = rnd(r, n_in, scale=0.3).requires_grad_()
    b = rnd(n_out, r, scale=0.3).requires_grad_()
    a_start, b_start = a.detach().clone(), b.detach().clone()
    x = rnd(n, n_in)
    target = rnd(n, n_out)
    # optimizers/loraplus.py: groupA (lora_A) at lr, groupB (lora_B) at lr · loraplus_lr_ratio; Adam defaults
    opt = torch.optim.Adam([{"params": [a], "lr": lr}, {"params": [b], "lr": lr * ratio}], betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        y = x @ w.T + s * (x @ a.T) @ b.T
        loss = ((y - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return {
        "in": n_in, "out": n_out, "r": r, "alpha": alpha, "lr": lr, "ratio": ratio, "steps": steps,
        "w": entry(w.T), "aStart": entry(a_start.T), "bStart": entry(b_start.T), "x": entry(x), "target": entry(target),
        "a": entry(a.detach().T), "b": entry(b.detach().T), "losses": losses,
    }


reference = {
    "generator": "scripts/peft-reference/variants.py",
    "torch": torch.__version__,
    "dora": [dora_case(6, 5, 2, 3.0, 4), dora_case(4, 7, 3, 2.0, 3, rslora=True)],
    "init": [
        init_case("pissa", 7, 5, 2, 4.0),
        init_case("pissa", 4, 6, 3, 3.0, rslora=True),
        init_case("olora", 7, 5, 2, 4.0),
        init_case("olora", 5, 5, 3, 2.0),
        init_case("olora", 4, 6, 2, 1.0),
        # r = min(in, out): the last Householder step, where LAPACK's and JAMA's signs differ, is part of A and B
        init_case("olora", 4, 3, 3, 3.0),
        init_case("olora", 3, 3, 3, 3.0),
        init_case("olora", 3, 4, 3, 3.0),
        init_case("pissa", 3, 4, 3, 3.0),
    ],
    "conversion": [conversion_case("pissa", 7, 5, 2, 4.0, False), conversion_case("olora", 5, 6, 3, 3.0, True)],
    "loraplus": loraplus_case(6, 4, 2, 4.0, 8, 0.01, 16.0, 3),
}

out = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "variants", "peft-reference.json")
with open(out, "w") as fh:
    json.dump(reference, fh, indent=1)
    fh.write("\n")
print(f"wrote {os.path.normpath(out)}")
