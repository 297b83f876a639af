#!/usr/bin/env python3
"""Reference codes and values for rankwise's quantized frozen weights (issue 23): NF4 with double quantization, int8
absmax per row, bfloat16. Needs only PyTorch (Debian python3-torch 1.13); bitsandbytes itself is not installed here, so
this file re-implements the parts of it that define the numbers, written from bitsandbytes' sources
(bitsandbytes-foundation/bitsandbytes, main as of 2026-12):

  * bitsandbytes/functional.py: get_4bit_type("nf4") (the 16 NF4 code values, from create_normal_map(0.9677083)),
    create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8) (the 8-bit dynamic map for absmax),
    quantize_4bit(..., compress_statistics=True): offset = absmax.mean(); quantize_blockwise(absmax − offset,
    blocksize=256) with the dynamic map; dequantize_4bit: absmax = dequantize_blockwise(qabsmax, state2) + offset.
  * bitsandbytes/backends/default/ops.py (the PyTorch-native kernels, the reference the CUDA/CPU kernels are tested
    against): quantize_4bit / quantize_blockwise: per block of `blocksize` consecutive values of the flattened tensor
    (a last partial block gets its own absmax), absmax = max |x| (clamped to ≥ 1e-38), scaled = clamp(x · (1/absmax),
    −1, 1), code = bucketize(scaled, midpoints of the sorted code) (torch.bucketize, right=False: a value equal to a
    midpoint takes the lower code); two 4-bit codes per byte, the first in the high nibble (an odd count is padded
    with a 0 value); dequantize: code_value[q] · absmax of its block, in float32.
  * bitsandbytes/_ops.py + default/ops.py int8_vectorwise_quant / int8_vectorwise_dequant (LLM.int8() row-wise):
    row_stats = max |row|; q = round(A · (127 / row_stats)) (round half to even) as int8; dequantized A = q · row_stats
    · 7.874015718698502e-3 (1/127 in float32), in that order.
  * bfloat16: torch's float32 → bfloat16 conversion (round to nearest, ties to even).

Weights are quantized in PyTorch's nn.Linear layout [out, in], flattened row-major, as bitsandbytes' Linear4bit does.

Usage:
  make_nf4_reference.py [--out test/fixtures/quant]
Writes reference.safetensors (U8 / I8 / F32 tensors) and reference.json (shapes, offsets, what each tensor is).
"""
import argparse
import json
import os
import struct

import torch

NF4 = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
    -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
], dtype=torch.float32)
NF4 = NF4 / NF4.abs().max()  # get_4bit_type: data.div_(data.abs().max()) (the max is 1: a no-op kept for fidelity)


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes.functional.create_dynamic_map, line for line."""
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    gap = 256 - len(data)
    for i in range(gap):
        data.append(0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


DYNAMIC = create_dynamic_map()


def blockwise_absmax_scaled(a_flat, blocksize):
    """absmax per block (last partial block its own) and clamp(x · (1/absmax), −1, 1): default/ops.py."""
    n = a_flat.numel()
    rem = n % blocksize
    full = n - rem
    blocks = full // blocksize
    a_com = a_flat[:full].reshape(blocks, blocksize)
    absmax = a_com.abs().max(dim=-1)[0]
    scaled = torch.clamp(a_com * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        am = a_flat[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, am.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(a_flat[full:] / am, -1, 1)])
    return absmax, scaled


def quantize_blockwise(a, code, blocksize):
    absmax, scaled = blockwise_absmax_scaled(a.reshape(-1).float(), blocksize)
    bounds = (code[:-1] + code[1:]) / 2
    q = torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8)
    return q, absmax


def dequantize_blockwise(q, absmax, code, blocksize):
    n = q.numel()
    out = code[q.to(torch.int64)]
    rem = n % blocksize
    if rem == 0:
        return (out.reshape(-1, blocksize) * absmax.view(-1, 1)).reshape(n)
    full = n - rem
    blocks = full // blocksize
    return torch.cat([(out[:full].reshape(blocks, blocksize) * absmax[:blocks].view(-1, 1)).reshape(full), out[full:] * absmax[blocks]])


def quantize_nf4(w, blocksize=64):
    """quantize_4bit(w, blocksize=64, compress_statistics=True, quant_type='nf4')."""
    absmax, scaled = blockwise_absmax_scaled(w.reshape(-1).float(), blocksize)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1))
    bounds = (NF4[:-1] + NF4[1:]) / 2
    q = torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8)
    packed = (q[::2] << 4) | q[1::2]
    offset = absmax.mean()
    qabsmax, absmax2 = quantize_blockwise(absmax - offset, DYNAMIC, 256)
    return {'packed': packed, 'absmax': absmax, 'offset': offset, 'qabsmax': qabsmax, 'absmax2': absmax2}


def dequantize_nf4(state, n, blocksize=64):
    absmax = dequantize_blockwise(state['qabsmax'], state['absmax2'], DYNAMIC, 256)
    absmax = absmax + state['offset']
    packed = state['packed']
    q = torch.empty(packed.numel() * 2, dtype=torch.int64)
    q[1::2] = (packed & 0xF).to(torch.int64)
    q[::2] = (packed >> 4).to(torch.int64)
    values = NF4[q][:n]
    rem = n % blocksize
    if rem:
        full = n - rem
        blocks = full // blocksize
        out = torch.empty(n, dtype=torch.float32)
        out[:full] = (values[:full].view(-1, blocksize) * absmax[:blocks].view(-1, 1)).reshape(full)
        out[full:] = values[full:] * absmax[blocks]
        return out, absmax
    return (values.view(-1, blocksize) * absmax.view(-1, 1)).reshape(n), absmax


def quantize_int8_rows(w):
    row_stats = torch.max(w.abs(), dim=1).values.float()
    q = torch.round(w * (127.0 / row_stats.unsqueeze(-1))).to(torch.int8)
    return q, row_stats


def dequantize_int8_rows(q, row_stats):
    return q * row_stats.view(-1, 1) * 7.874015718698502e-3


def weights():
    g = torch.Generator().manual_seed(23)
    a = torch.randn(128, 192, generator=g, dtype=torch.float32) * 0.02
    a[3, :64] = 0.0  # an all-zero block: absmax clamps to 1e-38, codes at NF4's zero (index 7)
    a[10, 5] = 0.35  # outliers: the absmax of their blocks, and of their absmax block
    a[77, 100] = -0.5
    a[20, 64:128] = 0.01  # a constant block: every value at +1 (code 15)
    b = torch.randn(5, 27, generator=g, dtype=torch.float32)  # 135 values: 2 full blocks + 7, an odd count (padded)
    return {'a': a, 'b': b}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='test/fixtures/quant')
    args = parser.parse_args()
    tensors = {'nf4_code': NF4, 'dynamic_code': DYNAMIC}
    notes = {'nf4_code': 'get_4bit_type("nf4")', 'dynamic_code': 'create_dynamic_map() (signed)'}
    for name, w in weights().items():
        n = w.numel()
        tensors[f'{name}.weight'] = w
        notes[f'{name}.weight'] = f'input, nn.Linear layout [out, in] = {list(w.shape)}'
        nf4 = quantize_nf4(w)
        deq, absmax_deq = dequantize_nf4(nf4, n)
        tensors[f'{name}.nf4.packed'] = nf4['packed']
        tensors[f'{name}.nf4.absmax'] = nf4['absmax']
        tensors[f'{name}.nf4.offset'] = nf4['offset'].reshape(1)
        tensors[f'{name}.nf4.qabsmax'] = nf4['qabsmax']
        tensors[f'{name}.nf4.absmax2'] = nf4['absmax2']
        tensors[f'{name}.nf4.absmax_dequantized'] = absmax_deq
        tensors[f'{name}.nf4.dequantized'] = deq.reshape(w.shape)
        q8, stats = quantize_int8_rows(w)
        tensors[f'{name}.int8.codes'] = q8
        tensors[f'{name}.int8.row_stats'] = stats
        tensors[f'{name}.int8.dequantized'] = dequantize_int8_rows(q8, stats)
        tensors[f'{name}.bf16.dequantized'] = w.to(torch.bfloat16).to(torch.float32)
        err = (deq.reshape(w.shape) - w).abs().mean().item() / w.abs().mean().item()
        notes[f'{name}.nf4.dequantized'] = f'mean |error| / mean |w| = {err:.4f}'
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, 'reference.safetensors'), tensors)
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump({'script': 'scripts/quant-reference/make_nf4_reference.py', 'torch': torch.__version__, 'tensors': notes}, f, indent=2)
        f.write('\n')
    print(f'wrote {len(tensors)} tensors to {args.out}/reference.safetensors')


def write_safetensors(path, tensors):
    dtypes = {torch.float32: ('F32', 4), torch.uint8: ('U8', 1), torch.int8: ('I8', 1)}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        code, size = dtypes[t.dtype]
        raw = t.numpy().tobytes()
        assert len(raw) == t.numel() * size
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


if __name__ == '__main__':
    main()
