#!/usr/bin/env python3
"""Cross-framework reference for rankwise's model families (issue 23): Llama 3.x rope scaling, Mistral, Qwen3, Phi-3,
Gemma and Gemma 2.

A sibling of make_llama_reference.py (it reuses that script's safetensors I/O, tokenizer and PEFT rules) and, like it,
needs only PyTorch (Debian python3-torch 1.13): no transformers. The forward below is written from transformers'
modeling code (eager attention, the 4.56 / 5.x semantics) and computed in float64:

  * rotary embeddings (modeling_rope_utils.py): rope_type default, linear (inv_freq / factor), dynamic (NTK: base ·
    (factor·L/max_pos − (factor − 1))^(d/(d−2)) with L = max(seq_len, max_position_embeddings)), yarn (ramp between
    interpolated and extrapolated frequencies over [low, high] from beta_fast / beta_slow on
    original_max_position_embeddings (or max_position_embeddings), truncate, attention_factor from factor / mscale /
    mscale_all_dim multiplying cos and sin), llama3 (wavelengths above original/low_freq_factor divided by factor,
    below original/high_freq_factor kept, smoothed between), longrope (1 / (ext · base^(2i/d)), ext = long_factor beyond
    the top-level original_max_position_embeddings, else short_factor; cos and sin × attention_factor, by default
    sqrt(1 + ln(max_pos / original) / ln(original))); partial_rotary_factor (Phi-3) rotates the first
    int(head_dim · factor) dimensions of each head and passes the rest through.
  * Mistral / Phi-3: every layer attends to the last sliding_window keys (key j visible to query i iff
    i − sliding_window < j ≤ i); Gemma 2: layer_types, by default sliding on even layers (0, 2, …), full on odd.
  * Qwen3: q_norm / k_norm, RMSNorm over head_dim of each head of q and k before the rotary embedding.
  * Phi-3: fused qkv_proj (q | k | v along the output axis) and gate_up_proj (gate | up), up · silu(gate).
  * Gemma: RMSNorm x̂ · (1 + w), embeddings times sqrt(hidden_size) rounded to the weights' dtype (config torch_dtype:
    bfloat16 rounds sqrt(40) = 6.3246 to 6.3125), GeGLU with gelu_pytorch_tanh, tied head.
  * Gemma 2: the same, plus query_pre_attn_scalar^−0.5 as the attention scale, attention soft-capping
    cap · tanh(scores / cap) before the mask, post_attention_layernorm on the attention output, pre/post
    feed-forward norms around the MLP, and final logit soft-capping cap · tanh(logits / cap).

LoRA adapters follow PEFT's rules (make_llama_reference.py's targeted / pattern_value): one A [r, in], B [out, r] pair
over a fused weight (qkv_proj, gate_up_proj), as PEFT wraps the fused nn.Linear.

Usage:
  make_family_reference.py generate [--out test/fixtures/hf-families]
  make_family_reference.py apply --model DIR [--adapter DIR] --ids FILE --out FILE
"""
import argparse, json, math, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_llama_reference import (  # noqa: E402
    exact, exact_weight, forward as llama_forward, make_model as make_llama_model, make_tokenizer, bpe_encode,
    pattern_value, read_checkpoint, read_safetensors, save_model, targeted, write_safetensors, tensor_list,
)

# ------------------------------------------------------------------------------------------------ rotary tables

TORCH_DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}


def head_dim_of(config):
    return config.get('head_dim') or config['hidden_size'] // config['num_attention_heads']


def rope_parameters(config, seq_len):
    """(inv_freq [dim/2] float64, attention_factor, rotary dim) as transformers' ROPE_INIT_FUNCTIONS compute them."""
    base = config.get('rope_theta', 10000.0)
    dim = int(head_dim_of(config) * config.get('partial_rotary_factor', 1.0))
    scaling = config.get('rope_scaling') or {'rope_type': 'default'}
    kind = scaling.get('rope_type', scaling.get('type', 'default'))
    arange = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    max_pos = config['max_position_embeddings']
    if kind == 'default':
        return 1.0 / base ** arange, 1.0, dim
    if kind == 'linear':
        return 1.0 / base ** arange / scaling['factor'], 1.0, dim
    if kind == 'dynamic':
        factor = scaling['factor']
        length = max(seq_len, max_pos)
        base = base * ((factor * length / max_pos) - (factor - 1)) ** (dim / (dim - 2))
        return 1.0 / base ** arange, 1.0, dim
    if kind == 'yarn':
        factor = scaling['factor']
        original = scaling.get('original_max_position_embeddings') or max_pos

        def get_mscale(scale, m=1.0):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

        attention = scaling.get('attention_factor')
        if attention is None:
            ms, ms_all = scaling.get('mscale'), scaling.get('mscale_all_dim')
            attention = get_mscale(factor, ms) / get_mscale(factor, ms_all) if ms and ms_all else get_mscale(factor)
        beta_fast = scaling.get('beta_fast') or 32
        beta_slow = scaling.get('beta_slow') or 1

        def correction_dim(rotations):
            return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

        low, high = correction_dim(beta_fast), correction_dim(beta_slow)
        if scaling.get('truncate', True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extrapolation_factor = 1 - ramp
        pos_freqs = base ** arange
        inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolation_factor) + (1.0 / pos_freqs) * extrapolation_factor
        return inv_freq, attention, dim
    if kind == 'llama3':
        inv_freq = 1.0 / base ** arange
        factor, low_ff, high_ff = scaling['factor'], scaling['low_freq_factor'], scaling['high_freq_factor']
        old = scaling['original_max_position_embeddings']
        low_wavelen, high_wavelen = old / low_ff, old / high_ff
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low_ff) / (high_ff - low_ff)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, scaled), 1.0, dim
    if kind == 'longrope':
        # the top-level original_max_position_embeddings (Phi3Config's, default 4096) sets factor = max_pos / original
        top = config.get('original_max_position_embeddings', 4096 if config.get('model_type') == 'phi3' else None)
        original, factor = (top, max_pos / top) if top else (max_pos, scaling.get('factor'))
        attention = scaling.get('attention_factor')
        if attention is None:
            attention = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
        ext = torch.tensor(scaling['long_factor'] if seq_len and seq_len > original else scaling['short_factor'], dtype=torch.float64)
        return 1.0 / (ext * base ** arange), attention, dim
    raise ValueError(f'rope_type {kind}')


def rope_tables(config, T):
    inv_freq, attention, dim = rope_parameters(config, T)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos() * attention, emb.sin() * attention, dim


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


def apply_rope(x, cos, sin, dim):
    rot, rest = x[..., :dim], x[..., dim:]
    return torch.cat([rot * cos + rotate_half(rot) * sin, rest], dim=-1)

# ------------------------------------------------------------------------------------------------ the forward


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_windows(config):
    """The sliding window of each layer (None: full causal attention)."""
    mt, n = config['model_type'], config['num_hidden_layers']
    window = config.get('sliding_window')
    if mt in ('mistral', 'phi3'):
        return [window] * n
    if mt == 'gemma2':
        types = config.get('layer_types') or ['sliding_attention' if (i + 1) % 2 else 'full_attention' for i in range(n)]
        return [window if t == 'sliding_attention' else None for t in types]
    return [None] * n


def linear_names(config):
    if config['model_type'] == 'phi3':
        names = ['self_attn.qkv_proj', 'self_attn.o_proj', 'mlp.gate_up_proj', 'mlp.down_proj']
    else:
        names = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']
    return [f'model.layers.{l}.{n}' for l in range(config['num_hidden_layers']) for n in names]


def family_forward(config, weights, ids, deltas=None):
    """ids: LongTensor [B, T] -> logits [B, T, V] in float64 for every family above (llama and qwen2 included)."""
    deltas = deltas or {}
    mt = config['model_type']
    gemma = mt in ('gemma', 'gemma2')
    d, heads = config['hidden_size'], config['num_attention_heads']
    kv = config.get('num_key_value_heads') or heads
    hd = head_dim_of(config)
    eps = config.get('rms_norm_eps', 1e-6)

    def norm(x, w):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        return x * (1 + w) if gemma else x * w

    def lin(name, x):
        y = x @ weights[f'{name}.weight'].T
        if f'{name}.bias' in weights:
            y = y + weights[f'{name}.bias']
        if name in deltas:
            a, b, s = deltas[name]
            y = y + (x @ a.T @ b.T) * s
        return y

    B, T = ids.shape
    x = weights['model.embed_tokens.weight'][ids]
    if gemma:  # torch.tensor(hidden_size ** 0.5, dtype=the weights' dtype)
        x = x * torch.tensor(d ** 0.5, dtype=TORCH_DTYPES[config.get('torch_dtype', 'float32')]).to(torch.float64)
    cos, sin, rot_dim = rope_tables(config, T)
    scaling = config['query_pre_attn_scalar'] ** -0.5 if mt == 'gemma2' else hd ** -0.5
    attn_cap = config.get('attn_logit_softcapping') if mt == 'gemma2' else None
    final_cap = config.get('final_logit_softcapping') if mt == 'gemma2' else None
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    for l, window in enumerate(layer_windows(config)):
        p = f'model.layers.{l}'
        h = norm(x, weights[f'{p}.input_layernorm.weight'])
        if mt == 'phi3':
            qkv = lin(f'{p}.self_attn.qkv_proj', h)
            q, k, v = qkv.split([heads * hd, kv * hd, kv * hd], dim=-1)
        else:
            q, k, v = (lin(f'{p}.self_attn.{n}_proj', h) for n in 'qkv')
        q, k, v = q.view(B, T, heads, hd), k.view(B, T, kv, hd), v.view(B, T, kv, hd)
        if mt == 'qwen3':
            q = norm(q, weights[f'{p}.self_attn.q_norm.weight'])
            k = norm(k, weights[f'{p}.self_attn.k_norm.weight'])
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = apply_rope(q, cos, sin, rot_dim), apply_rope(k, cos, sin, rot_dim)
        k = k.repeat_interleave(heads // kv, dim=1)
        v = v.repeat_interleave(heads // kv, dim=1)
        att = (q @ k.transpose(-2, -1)) * scaling
        if attn_cap is not None:
            att = torch.tanh(att / attn_cap) * attn_cap
        visible = j <= i
        if window is not None:
            visible = visible & (j > i - window)
        att = att.masked_fill(~visible, float('-inf')).softmax(-1)
        y = lin(f'{p}.self_attn.o_proj', (att @ v).transpose(1, 2).reshape(B, T, heads * hd))
        if mt == 'gemma2':
            y = norm(y, weights[f'{p}.post_attention_layernorm.weight'])
        x = x + y
        h = norm(x, weights[f'{p}.{"pre_feedforward_layernorm" if mt == "gemma2" else "post_attention_layernorm"}.weight'])
        if mt == 'phi3':
            gate, up = lin(f'{p}.mlp.gate_up_proj', h).chunk(2, dim=-1)
            m = up * torch.nn.functional.silu(gate)
        else:
            act = gelu_tanh if gemma else torch.nn.functional.silu
            m = act(lin(f'{p}.mlp.gate_proj', h)) * lin(f'{p}.mlp.up_proj', h)
        y = lin(f'{p}.mlp.down_proj', m)
        if mt == 'gemma2':
            y = norm(y, weights[f'{p}.post_feedforward_layernorm.weight'])
        x = x + y
    x = norm(x, weights['model.norm.weight'])
    tied = config.get('tie_word_embeddings', True)
    logits = x @ (weights['model.embed_tokens.weight'] if tied else weights['lm_head.weight']).T
    if 'lm_head' in deltas:
        a, b, s = deltas['lm_head']
        logits = logits + (x @ a.T @ b.T) * s
    if final_cap is not None:
        logits = torch.tanh(logits / final_cap) * final_cap
    return logits

# --------------------------------------------------------------------------------------------- PEFT adapters


def module_shapes(config):
    """Module name (last part) -> (in, out)."""
    d, inter = config['hidden_size'], config['intermediate_size']
    heads, kv, hd = config['num_attention_heads'], config.get('num_key_value_heads') or config['num_attention_heads'], head_dim_of(config)
    return {'q_proj': (d, heads * hd), 'k_proj': (d, kv * hd), 'v_proj': (d, kv * hd), 'o_proj': (heads * hd, d),
            'qkv_proj': (d, (heads + 2 * kv) * hd), 'gate_up_proj': (d, 2 * inter),
            'gate_proj': (d, inter), 'up_proj': (d, inter), 'down_proj': (inter, d)}


def adapter_deltas(model_config, adapter_dir):
    cfg = json.load(open(os.path.join(adapter_dir, 'adapter_config.json')))
    tensors = read_safetensors(os.path.join(adapter_dir, 'adapter_model.safetensors'))
    names = linear_names(model_config)
    deltas = {}
    for name in names:
        if not targeted(cfg, name, names):
            continue
        a = tensors[f'base_model.model.{name}.lora_A.weight']
        b = tensors[f'base_model.model.{name}.lora_B.weight']
        r = pattern_value(cfg.get('rank_pattern'), name, cfg['r'])
        alpha = pattern_value(cfg.get('alpha_pattern'), name, cfg['lora_alpha'])
        assert a.shape[0] == r and b.shape[1] == r, f'{name}: rank {a.shape[0]} in the weights, {r} by the config'
        deltas[name] = (a, b, alpha / math.sqrt(r) if cfg.get('use_rslora') else alpha / r)
    used = {f'base_model.model.{n}.lora_{x}.weight' for n in deltas for x in 'AB'}
    unused = sorted(set(tensors) - used)
    assert not unused, f'adapter tensors PEFT would not load: {unused}'
    return deltas


def make_adapter(dir_, model_config, peft_config, seed, base):
    os.makedirs(dir_, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    shapes = module_shapes(model_config)
    names = linear_names(model_config)
    tensors = []
    for name in names:
        if not targeted(peft_config, name, names):
            continue
        inp, out = shapes[name.rsplit('.', 1)[1]]
        r = pattern_value(peft_config.get('rank_pattern'), name, peft_config['r'])
        tensors.append((f'base_model.model.{name}.lora_A.weight', exact_weight([r, inp], 1 / math.sqrt(inp), g).float()))
        tensors.append((f'base_model.model.{name}.lora_B.weight', exact_weight([out, r], 0.2, g).float()))
    write_safetensors(os.path.join(dir_, 'adapter_model.safetensors'), tensors, {'format': 'pt'})
    full = {'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': base, 'bias': 'none', 'fan_in_fan_out': False,
            'inference_mode': True, 'init_lora_weights': True, 'layers_pattern': None, 'layers_to_transform': None,
            'lora_dropout': 0.0, 'modules_to_save': None, 'r': 8, 'rank_pattern': {}, 'alpha_pattern': {}, 'use_dora': False,
            'use_rslora': False}
    full.update(peft_config)
    json.dump(full, open(os.path.join(dir_, 'adapter_config.json'), 'w'), indent=2)

# ------------------------------------------------------------------------------------------------- fixtures


def make_weights(config, seed):
    """Random weights exact in BF16, F16 and F32, named as transformers names them for the family."""
    mt = config['model_type']
    gemma = mt in ('gemma', 'gemma2')
    g = torch.Generator().manual_seed(seed)
    d, inter, V = config['hidden_size'], config['intermediate_size'], config['vocab_size']
    heads, kv, hd = config['num_attention_heads'], config['num_key_value_heads'], head_dim_of(config)
    norm = (lambda n: exact_weight([n], 0.1, g)) if gemma else (lambda n: 1 + exact_weight([n], 0.1, g))
    w = {'model.embed_tokens.weight': exact_weight([V, d], 0.5 if not gemma else 0.1, g)}
    for l in range(config['num_hidden_layers']):
        p = f'model.layers.{l}'
        w[f'{p}.input_layernorm.weight'] = norm(d)
        if mt == 'phi3':
            w[f'{p}.self_attn.qkv_proj.weight'] = exact_weight([(heads + 2 * kv) * hd, d], 1 / math.sqrt(d), g)
        else:
            for name, out in [('q_proj', heads * hd), ('k_proj', kv * hd), ('v_proj', kv * hd)]:
                w[f'{p}.self_attn.{name}.weight'] = exact_weight([out, d], 1 / math.sqrt(d), g)
        w[f'{p}.self_attn.o_proj.weight'] = exact_weight([d, heads * hd], 1 / math.sqrt(heads * hd), g)
        if mt == 'qwen3':
            w[f'{p}.self_attn.q_norm.weight'] = norm(hd)
            w[f'{p}.self_attn.k_norm.weight'] = norm(hd)
        w[f'{p}.post_attention_layernorm.weight'] = norm(d)
        if mt == 'gemma2':
            w[f'{p}.pre_feedforward_layernorm.weight'] = norm(d)
            w[f'{p}.post_feedforward_layernorm.weight'] = norm(d)
        if mt == 'phi3':
            w[f'{p}.mlp.gate_up_proj.weight'] = exact_weight([2 * inter, d], 1 / math.sqrt(d), g)
        else:
            w[f'{p}.mlp.gate_proj.weight'] = exact_weight([inter, d], 1 / math.sqrt(d), g)
            w[f'{p}.mlp.up_proj.weight'] = exact_weight([inter, d], 1 / math.sqrt(d), g)
        w[f'{p}.mlp.down_proj.weight'] = exact_weight([d, inter], 1 / math.sqrt(inter), g)
    w['model.norm.weight'] = norm(d)
    if not config.get('tie_word_embeddings', True):
        w['lm_head.weight'] = exact_weight([V, d], 1 / math.sqrt(d), g)
    return {k: exact(v) for k, v in w.items()}


def family_configs(eos):
    common = {'vocab_size': 384, 'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'max_position_embeddings': 64,
              'bos_token_id': eos, 'eos_token_id': eos, 'attention_dropout': 0.0, 'torch_dtype': 'float32', 'use_cache': True}
    return {
        # Llama 3.2-style: llama3 rope scaling (theta 100 and original context 32 put the 4 frequencies of a head of 8
        # in every llama3 regime: kept, smoothed, divided), tied embeddings.
        'llama3-tiny': {**common, 'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'intermediate_size': 64,
                        'num_key_value_heads': 2, 'rms_norm_eps': 1e-5, 'rope_theta': 100.0, 'hidden_act': 'silu',
                        'rope_scaling': {'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                         'original_max_position_embeddings': 32, 'rope_type': 'llama3'},
                        'attention_bias': False, 'mlp_bias': False, 'tie_word_embeddings': True, 'pretraining_tp': 1,
                        'head_dim': 8, '_name_or_path': 'rankwise/llama3-tiny-random'},
        'mistral-tiny': {**common, 'architectures': ['MistralForCausalLM'], 'model_type': 'mistral', 'intermediate_size': 48,
                         'num_key_value_heads': 2, 'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'hidden_act': 'silu',
                         'sliding_window': 5, 'tie_word_embeddings': False, 'head_dim': None},
        'qwen3-tiny': {**common, 'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'intermediate_size': 48,
                       'num_key_value_heads': 2, 'head_dim': 16, 'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0,
                       'rope_scaling': None, 'hidden_act': 'silu', 'attention_bias': False, 'tie_word_embeddings': True,
                       'use_sliding_window': False, 'sliding_window': None, 'max_window_layers': 2},
        # Phi-4-mini-style partial rotary factor (the first half of each head rotates), a sliding window.
        'phi3-tiny': {**common, 'architectures': ['Phi3ForCausalLM'], 'model_type': 'phi3', 'intermediate_size': 40,
                      'num_key_value_heads': 2, 'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'rope_scaling': None,
                      'partial_rotary_factor': 0.5, 'hidden_act': 'silu', 'sliding_window': 7, 'tie_word_embeddings': False,
                      'resid_pdrop': 0.0, 'embd_pdrop': 0.0, 'original_max_position_embeddings': 64, 'pad_token_id': eos},
        # Gemma-2b-style multi-query attention with head_dim 16 (4 heads · 16 = 64 ≠ hidden 32).
        'gemma-tiny': {**common, 'architectures': ['GemmaForCausalLM'], 'model_type': 'gemma', 'intermediate_size': 64,
                       'num_key_value_heads': 1, 'head_dim': 16, 'rms_norm_eps': 1e-6, 'rope_theta': 10000.0,
                       'hidden_act': 'gelu', 'hidden_activation': 'gelu_pytorch_tanh', 'attention_bias': False,
                       'tie_word_embeddings': True, 'pad_token_id': 0},
        # Stored as BF16 (torch_dtype bfloat16): the embedding normalizer is sqrt(40) = 6.3246 rounded to bfloat16, 6.3125.
        'gemma2-tiny': {**common, 'architectures': ['Gemma2ForCausalLM'], 'model_type': 'gemma2', 'hidden_size': 40, 'intermediate_size': 64,
                        'num_hidden_layers': 3, 'num_key_value_heads': 2, 'head_dim': 16, 'rms_norm_eps': 1e-6,
                        'rope_theta': 10000.0, 'hidden_act': 'gelu_pytorch_tanh', 'hidden_activation': 'gelu_pytorch_tanh',
                        'query_pre_attn_scalar': 24, 'attn_logit_softcapping': 2.0, 'final_logit_softcapping': 6.0,
                        'sliding_window': 4, 'attention_bias': False, 'tie_word_embeddings': True, 'torch_dtype': 'bfloat16',
                        'cache_implementation': 'hybrid', 'pad_token_id': 0},
    }


# rope_scaling variants evaluated on llama3-tiny's weights (the test writes each into a copy of its config.json).
ROPE_VARIANTS = {
    'linear': {'rope_type': 'linear', 'factor': 4.0},
    'dynamic': {'type': 'dynamic', 'factor': 2.0},
    'yarn': {'rope_type': 'yarn', 'factor': 4.0, 'original_max_position_embeddings': 16, 'beta_fast': 8.0, 'beta_slow': 1.0},
    'yarn-mscale': {'rope_type': 'yarn', 'factor': 4.0, 'mscale': 0.8, 'mscale_all_dim': 0.5, 'truncate': False},
    'default': {'rope_type': 'default'},
}
LONGROPE = {'type': 'longrope', 'short_factor': [1.0, 1.5], 'long_factor': [2.0, 6.0]}
# Config edits and the fixture they apply to: model@variant -> (fixture, config.json keys to set).
VARIANTS = {
    **{f'llama3-tiny@{name}': ('llama3-tiny', {'rope_scaling': scaling}) for name, scaling in ROPE_VARIANTS.items()},
    # Phi-3 longrope (rotary dim 4: two factors): 12 tokens beyond original 8 use long_factor, within 32 short_factor.
    'phi3-tiny@longrope-long': ('phi3-tiny', {'rope_scaling': LONGROPE, 'original_max_position_embeddings': 8}),
    'phi3-tiny@longrope-short': ('phi3-tiny', {'rope_scaling': LONGROPE, 'original_max_position_embeddings': 32}),
}


def rope_reference():
    """inv_freq and attention factor of each rope type for a few shapes (and dynamic beyond max_position_embeddings)."""
    cases = []
    for head_dim, theta, max_pos in [(8, 100.0, 64), (64, 500000.0, 131072), (128, 10000.0, 4096)]:
        base = {'hidden_size': head_dim * 4, 'num_attention_heads': 4, 'head_dim': head_dim, 'rope_theta': theta, 'max_position_embeddings': max_pos}
        longrope = {'rope_type': 'longrope', 'short_factor': [1 + i / head_dim for i in range(head_dim // 2)],
                    'long_factor': [1 + 4 * i / head_dim for i in range(head_dim // 2)]}
        scalings = [None, *ROPE_VARIANTS.values(), longrope, {**longrope, 'factor': 8.0, 'attention_factor': 1.25},
                    {'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0, 'original_max_position_embeddings': max_pos // 8},
                    {'rope_type': 'yarn', 'factor': 32.0, 'original_max_position_embeddings': max_pos // 32, 'attention_factor': 0.7}]
        for scaling in scalings:
            longs = scaling and scaling.get('rope_type') == 'longrope'
            for seq_len in ([max_pos, 3 * max_pos] if scaling and scaling.get('type') == 'dynamic' else [max_pos // 8, max_pos // 2] if longs else [max_pos]):
                config = {**base, 'rope_scaling': scaling}
                if longs and 'factor' not in scaling:
                    config = {**config, 'model_type': 'phi3', 'original_max_position_embeddings': max_pos // 4}
                inv_freq, attention, dim = rope_parameters(config, seq_len)
                cases.append({'config': config, 'seqLen': seq_len, 'invFreq': [float(v) for v in inv_freq], 'attentionFactor': attention, 'rotaryDim': dim})
    return cases


def generate(out):
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)
    tokenizer, tokenizer_config, vocab, merges, eos = make_tokenizer()
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, eos, (2, 12), generator=g)
    configs = family_configs(eos)

    # Self-check: this forward reproduces make_llama_reference.py's on a llama and a qwen2 model.
    for check in [{'model_type': 'llama', 'tie_word_embeddings': True, 'attention_bias': False},
                  {'model_type': 'qwen2', 'tie_word_embeddings': False}]:
        config = {'vocab_size': 384, 'hidden_size': 32, 'intermediate_size': 48, 'num_hidden_layers': 2, 'num_attention_heads': 4,
                  'num_key_value_heads': 2, 'max_position_embeddings': 64, 'rms_norm_eps': 1e-5, 'rope_theta': 1000.0, **check}
        weights = make_llama_model(config, 3)
        assert torch.allclose(family_forward(config, weights, ids), llama_forward(config, weights, ids), rtol=0, atol=1e-12)

    logits, weights_by_model = [], {}
    for name, config in configs.items():
        weights = make_weights(config, 11 + len(weights_by_model))
        weights_by_model[name] = weights
        dtype = TORCH_DTYPES[config['torch_dtype']]
        save_model(os.path.join(out, name), config, weights, dtype)
        json.dump(tokenizer, open(os.path.join(out, name, 'tokenizer.json'), 'w'), ensure_ascii=False)
        json.dump(tokenizer_config, open(os.path.join(out, name, 'tokenizer_config.json'), 'w'), indent=2)
        logits.append((name, family_forward(config, weights, ids).float()))
    for variant, (model_name, edits) in VARIANTS.items():
        config = {**configs[model_name], **edits}
        logits.append((variant, family_forward(config, weights_by_model[model_name], ids).float()))

    adapters = {
        # all-linear on the fused projections: one A/B pair over qkv_proj [32 -> 64] and gate_up_proj [32 -> 80].
        'phi3-all-linear': ('phi3-tiny', {'target_modules': 'all-linear', 'r': 4, 'lora_alpha': 8,
                                          'rank_pattern': {'gate_up_proj': 2}}),
        'gemma2-qv': ('gemma2-tiny', {'target_modules': ['q_proj', 'v_proj'], 'r': 4, 'lora_alpha': 4, 'use_rslora': True}),
        'qwen3-all-linear': ('qwen3-tiny', {'target_modules': 'all-linear', 'r': 2, 'lora_alpha': 4}),
    }
    for seed, (adapter, (model_name, peft)) in enumerate(adapters.items()):
        config = configs[model_name]
        adapter_dir = os.path.join(out, f'adapter-{adapter}')
        make_adapter(adapter_dir, config, peft, 200 + seed, config.get('_name_or_path', f'./{model_name}'))
        logits.append((f'{model_name}+{adapter}', family_forward(config, weights_by_model[model_name], ids, adapter_deltas(config, adapter_dir)).float()))
    write_safetensors(os.path.join(out, 'reference.safetensors'), logits, {'format': 'pt'})
    reference = {'ids': ids.tolist(), 'variants': {name: {'model': m, 'config': edits} for name, (m, edits) in VARIANTS.items()}, 'rope': rope_reference(),
                 'logits': 'reference.safetensors: one F32 tensor [2, 12, 384] per model, config variant (model@variant) and adapter (model+adapter), computed in float64'}
    json.dump(reference, open(os.path.join(out, 'reference.json'), 'w'), indent=1)
    print(f'wrote {out}: {", ".join(configs)}')


def apply(args):
    config, weights = read_checkpoint(args.model)
    deltas = adapter_deltas(config, args.adapter) if args.adapter else None
    ids = torch.tensor(json.load(open(args.ids)), dtype=torch.long)
    logits = family_forward(config, weights, ids, deltas)
    json.dump({'shape': list(logits.shape), 'logits': tensor_list(logits)}, open(args.out, 'w'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='command', required=True)
    g = sub.add_parser('generate')
    g.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'hf-families'))
    a = sub.add_parser('apply')
    a.add_argument('--model', required=True)
    a.add_argument('--adapter')
    a.add_argument('--ids', required=True)
    a.add_argument('--out', required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.command == 'generate':
        generate(os.path.normpath(args.out))
    else:
        apply(args)


if __name__ == '__main__':
    sys.exit(main())
