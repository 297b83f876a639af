#!/usr/bin/env python3
"""Cross-framework reference for rankwise's Hugging Face interop (issue 13).

Needs only PyTorch (Debian: apt-get install python3-torch): no transformers, no peft, no safetensors package. The
forward pass below is written from the semantics of transformers' LlamaForCausalLM / Qwen2ForCausalLM (eager
attention): RMSNorm in float32 (x * rsqrt(mean(x^2) + eps) * weight), rotary embeddings with rope_theta in the
rotate_half layout (inv_freq = theta^(-2i/d), emb = cat(freqs, freqs), q*cos + rotate_half(q)*sin), grouped-query
attention (query head h reads key/value head h // (heads / kv_heads), HF's repeat_kv), causal softmax(QK^T/sqrt(hd)),
SwiGLU MLP down(silu(gate(x)) * up(x)), tied or untied lm_head. LoRA adapters are applied with PEFT's rules:
target_modules (list: exact name or ".name" suffix; string: re.fullmatch; "all-linear": every Linear but the output
layer), rank_pattern / alpha_pattern keys matched with re.match(rf"(.*\\.)?({key})$", name) (first key in dict order
wins), scaling alpha/r or alpha/sqrt(r) with use_rslora, and PEFT's file layout
(base_model.model.<module>.lora_A.weight [r, in], lora_B.weight [out, r]).

Usage:
  make_llama_reference.py generate [--out test/fixtures/hf]
      writes the fixtures rankwise's tests read (deterministic: the same files on every run).
  make_llama_reference.py apply --model DIR [--adapter DIR] --ids FILE --out FILE
      logits of a checkpoint directory (config.json + model.safetensors or a sharded index), optionally with a
      PEFT-layout adapter applied; ids FILE: JSON [[id, ...], ...]; writes JSON {"shape": [...], "logits": [...]}.
"""
import argparse, json, math, os, re, struct, sys
import torch

# --------------------------------------------------------------------------------------------- safetensors I/O

DTYPES = {'F32': (torch.float32, 4), 'BF16': (torch.bfloat16, 2), 'F16': (torch.float16, 2)}
NAMES = {torch.float32: 'F32', torch.bfloat16: 'BF16', torch.float16: 'F16'}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in file order; header space-padded to 8 bytes like the reference writer."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors:
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype in (torch.bfloat16, torch.float16) else t.numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        dtype, size = DTYPES[e['dtype']]
        b, end = e['data_offsets']
        raw = bytearray(data[8 + n + b:8 + n + end])
        if dtype == torch.float32:
            t = torch.frombuffer(raw, dtype=torch.float32)
        else:
            t = torch.frombuffer(raw, dtype=torch.int16).view(dtype)
        out[name] = t.reshape(e['shape']).to(torch.float64)
    return out


def read_checkpoint(model_dir):
    config = json.load(open(os.path.join(model_dir, 'config.json')))
    index = os.path.join(model_dir, 'model.safetensors.index.json')
    if os.path.exists(index):
        weights = {}
        for shard in sorted(set(json.load(open(index))['weight_map'].values())):
            weights.update(read_safetensors(os.path.join(model_dir, shard)))
    else:
        weights = read_safetensors(os.path.join(model_dir, 'model.safetensors'))
    return config, weights

# ------------------------------------------------------------------------------------------------ the forward


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


def linear_names(config):
    names = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']
    return [f'model.layers.{l}.{n}' for l in range(config['num_hidden_layers']) for n in names]


def forward(config, weights, ids, deltas=None):
    """ids: LongTensor [B, T] -> logits [B, T, V] in float64. deltas: module name -> (lora_A [r, in], lora_B [out, r], scaling)."""
    deltas = deltas or {}
    d = config['hidden_size']
    heads = config['num_attention_heads']
    kv = config.get('num_key_value_heads') or heads
    hd = config.get('head_dim') or d // heads
    eps = config.get('rms_norm_eps', 1e-6)
    theta = config.get('rope_theta', 10000.0)
    qwen2 = config.get('model_type') == 'qwen2'

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
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(config['num_hidden_layers']):
        p = f'model.layers.{l}'
        h = rms_norm(x, weights[f'{p}.input_layernorm.weight'], eps)
        q = lin(f'{p}.self_attn.q_proj', h).view(B, T, heads, hd).transpose(1, 2)
        k = lin(f'{p}.self_attn.k_proj', h).view(B, T, kv, hd).transpose(1, 2)
        v = lin(f'{p}.self_attn.v_proj', h).view(B, T, kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv, dim=1)  # HF repeat_kv: query head i reads kv head i // n_rep
        v = v.repeat_interleave(heads // kv, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, heads * hd)
        x = x + lin(f'{p}.self_attn.o_proj', y)
        h = rms_norm(x, weights[f'{p}.post_attention_layernorm.weight'], eps)
        m = torch.nn.functional.silu(lin(f'{p}.mlp.gate_proj', h)) * lin(f'{p}.mlp.up_proj', h)
        x = x + lin(f'{p}.mlp.down_proj', m)
    x = rms_norm(x, weights['model.norm.weight'], eps)
    head = weights['model.embed_tokens.weight'] if config.get('tie_word_embeddings', True) else None
    if 'lm_head.weight' in weights and not config.get('tie_word_embeddings', True):
        head = weights['lm_head.weight']
    logits = x @ head.T
    if 'lm_head' in deltas:
        a, b, s = deltas['lm_head']
        logits = logits + (x @ a.T @ b.T) * s
    del qwen2
    return logits

# --------------------------------------------------------------------------------------------- PEFT's rules


def targeted(config_peft, name, all_linear_names):
    """PEFT's check_target_module_exists (layers_to_transform applies to ".name" suffix matches only)."""
    target = config_peft.get('target_modules')
    if target == 'all-linear':
        target = sorted({n.rsplit('.', 1)[1] for n in all_linear_names})  # every Linear but the output layer
    if isinstance(target, str):
        return re.fullmatch(target, name) is not None
    if name in target:
        return True
    found = any(name.endswith('.' + t) for t in target)
    layers = config_peft.get('layers_to_transform')
    if found and layers is not None:
        patterns = config_peft.get('layers_pattern') or [None]
        patterns = [patterns] if isinstance(patterns, str) else patterns
        m = None
        for p in patterns:
            m = re.match(r'.*\.[^.]*\.(\d+)\.' if p is None else rf'.*\.{p}\.(\d+)\.', name)
            if m:
                break
        layers = [layers] if isinstance(layers, int) else layers
        found = m is not None and int(m.group(1)) in layers
    return found


def pattern_value(patterns, name, default):
    for key, value in (patterns or {}).items():
        if re.match(rf'(.*\.)?({key})$', name):
            return value
    return default


def adapter_deltas(model_config, adapter_dir):
    cfg = json.load(open(os.path.join(adapter_dir, 'adapter_config.json')))
    tensors = read_safetensors(os.path.join(adapter_dir, 'adapter_model.safetensors'))
    names = linear_names(model_config) + ([] if model_config.get('tie_word_embeddings', True) else ['lm_head'])
    deltas = {}
    for name in names:
        if name == 'lm_head' and cfg.get('target_modules') == 'all-linear':
            continue
        if not targeted(cfg, name, linear_names(model_config)):
            continue
        a = tensors[f'base_model.model.{name}.lora_A.weight']
        b = tensors[f'base_model.model.{name}.lora_B.weight']
        r = pattern_value(cfg.get('rank_pattern'), name, cfg['r'])
        alpha = pattern_value(cfg.get('alpha_pattern'), name, cfg['lora_alpha'])
        assert a.shape[0] == r, f'{name}: rank {a.shape[0]} in the weights, {r} by the config'
        scaling = alpha / math.sqrt(r) if cfg.get('use_rslora') else alpha / r
        deltas[name] = (a, b, scaling)
    used = {f'base_model.model.{n}.lora_{x}.weight' for n in deltas for x in 'AB'}
    unused = sorted(set(tensors) - used)
    assert not unused, f'adapter tensors PEFT would not load: {unused}'
    return deltas

# ------------------------------------------------------------------------------------------ tiny tokenizer


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (what a ByteLevel pre-tokenizer and decoder use)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# GPT-2's split pattern for ASCII text (\p{L} -> [^\W\d_], \p{N} -> \d): enough for the training text below.
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

TRAINING_TEXT = """The state of the union is strong, and the people of these United States have shown again that
their government rests on their consent. We have paid the debts of the nation, built roads and schools, and kept the
peace with our neighbors. The Congress will consider the measures that the Secretary of the Treasury recommends for
the revenue of the government, and the measures for the defense of the country. It is the duty of the President to
give the Congress information of the state of the union, and to recommend such measures as he shall judge necessary
and expedient. The people expect that their representatives will act with wisdom, with economy and with justice. In
the year that has passed, the commerce of the nation increased, the public lands were surveyed, and the treaties with
foreign powers were observed. Let us therefore resolve that the government of the people shall not perish."""


def train_bpe(text, merges_wanted):
    table = bytes_to_unicode()
    words = {}
    for piece in PRETOKEN.findall(text):
        key = tuple(table[b] for b in piece.encode('utf-8'))
        words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(merges_wanted):
        pairs = {}
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] = pairs.get(pair, 0) + count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # most frequent, ties by the pair itself: deterministic
        merges.append(best)
        merged = {}
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + count
        words = merged
    return merges


def bpe_encode(text, vocab, merges):
    table = bytes_to_unicode()
    ranks = {pair: i for i, pair in enumerate(merges)}
    ids = []
    for piece in PRETOKEN.findall(text):
        word = [table[b] for b in piece.encode('utf-8')]
        while len(word) > 1:
            pairs = [(ranks.get((word[i], word[i + 1]), math.inf), i) for i in range(len(word) - 1)]
            rank, i = min(pairs)
            if rank == math.inf:
                break
            word = word[:i] + [word[i] + word[i + 1]] + word[i + 2:]
        ids.extend(vocab[w] for w in word)
    return ids


def make_tokenizer(merges_wanted=100):
    table = bytes_to_unicode()
    vocab = {table[b]: i for i, b in enumerate(sorted(table))}
    merges = train_bpe(TRAINING_TEXT, merges_wanted)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    eos = len(vocab)
    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': eos, 'content': '<|endoftext|>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}],
        'normalizer': None,
        'pre_tokenizer': byte_level,
        'post_processor': {**byte_level, 'trim_offsets': False},
        'decoder': byte_level,
        'model': {
            'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None, 'end_of_word_suffix': None,
            'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
            'vocab': vocab, 'merges': [[a, b] for a, b in merges],
        },
    }
    tokenizer_config = {
        'add_prefix_space': False, 'bos_token': '<|endoftext|>', 'eos_token': '<|endoftext|>', 'unk_token': '<|endoftext|>',
        'clean_up_tokenization_spaces': False, 'model_max_length': 64, 'tokenizer_class': 'GPT2Tokenizer',
        'added_tokens_decoder': {str(eos): {'content': '<|endoftext|>', 'lstrip': False, 'normalized': False, 'rstrip': False, 'single_word': False, 'special': True}},
    }
    return tokenizer, tokenizer_config, vocab, merges, eos

# ------------------------------------------------------------------------------------------------- fixtures


def exact(w):
    """The nearest values that BF16, F16 and F32 all store exactly (bf16-rounded, none below f16's smallest normal)."""
    w = w.to(torch.bfloat16).to(torch.float64)
    w[w.abs() < 2 ** -14] = 0
    return w


def exact_weight(shape, std, g):
    return exact(torch.randn(shape, generator=g, dtype=torch.float64) * std)


def make_model(config, seed):
    g = torch.Generator().manual_seed(seed)
    d, inter = config['hidden_size'], config['intermediate_size']
    heads, kv = config['num_attention_heads'], config['num_key_value_heads']
    hd = d // heads
    V = config['vocab_size']
    bias = config.get('model_type') == 'qwen2' or config.get('attention_bias', False)
    w = {'model.embed_tokens.weight': exact_weight([V, d], 0.5, g)}
    for l in range(config['num_hidden_layers']):
        p = f'model.layers.{l}'
        w[f'{p}.input_layernorm.weight'] = 1 + exact_weight([d], 0.1, g)
        for name, out, inp in [('q_proj', heads * hd, d), ('k_proj', kv * hd, d), ('v_proj', kv * hd, d), ('o_proj', d, heads * hd)]:
            w[f'{p}.self_attn.{name}.weight'] = exact_weight([out, inp], 1 / math.sqrt(inp), g)
            if bias and (name != 'o_proj' or config.get('attention_bias', False)):
                w[f'{p}.self_attn.{name}.bias'] = exact_weight([out], 0.1, g)
        w[f'{p}.post_attention_layernorm.weight'] = 1 + exact_weight([d], 0.1, g)
        w[f'{p}.mlp.gate_proj.weight'] = exact_weight([inter, d], 1 / math.sqrt(d), g)
        w[f'{p}.mlp.up_proj.weight'] = exact_weight([inter, d], 1 / math.sqrt(d), g)
        w[f'{p}.mlp.down_proj.weight'] = exact_weight([d, inter], 1 / math.sqrt(inter), g)
    w['model.norm.weight'] = 1 + exact_weight([d], 0.1, g)
    if not config['tie_word_embeddings']:
        w['lm_head.weight'] = exact_weight([V, d], 1 / math.sqrt(d), g)
    return {k: exact(v) for k, v in w.items()}  # 1 + x is not exact for every exact x


def save_model(dir_, config, weights, dtype=torch.float32, shards=1):
    os.makedirs(dir_, exist_ok=True)
    json.dump(config, open(os.path.join(dir_, 'config.json'), 'w'), indent=2)
    items = [(k, v.to(dtype)) for k, v in weights.items()]
    if shards == 1:
        write_safetensors(os.path.join(dir_, 'model.safetensors'), items, {'format': 'pt'})
        return
    per = math.ceil(len(items) / shards)
    weight_map = {}
    total = 0
    for s in range(shards):
        name = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
        part = items[s * per:(s + 1) * per]
        write_safetensors(os.path.join(dir_, name), part, {'format': 'pt'})
        for k, v in part:
            weight_map[k] = name
            total += v.numel() * v.element_size()
    json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, open(os.path.join(dir_, 'model.safetensors.index.json'), 'w'), indent=2)


def make_adapter(dir_, model_config, peft_config, seed, base):
    """Random non-zero PEFT factors for every module the config targets (ranks from rank_pattern)."""
    os.makedirs(dir_, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    d, inter = model_config['hidden_size'], model_config['intermediate_size']
    hd = d // model_config['num_attention_heads']
    shapes = {'q_proj': (d, model_config['num_attention_heads'] * hd), 'k_proj': (d, model_config['num_key_value_heads'] * hd),
              'v_proj': (d, model_config['num_key_value_heads'] * hd), 'o_proj': (model_config['num_attention_heads'] * hd, d),
              'gate_proj': (d, inter), 'up_proj': (d, inter), 'down_proj': (inter, d)}
    tensors = []
    for name in linear_names(model_config):
        if not targeted(peft_config, name, linear_names(model_config)):
            continue
        inp, out = shapes[name.rsplit('.', 1)[1]]
        r = pattern_value(peft_config.get('rank_pattern'), name, peft_config['r'])
        tensors.append((f'base_model.model.{name}.lora_A.weight', exact_weight([r, inp], 1 / math.sqrt(inp), g).float()))
        tensors.append((f'base_model.model.{name}.lora_B.weight', exact_weight([out, r], 0.2, g).float()))
    write_safetensors(os.path.join(dir_, 'adapter_model.safetensors'), tensors, {'format': 'pt'})
    full = {
        # What PEFT 0.17 writes, including keys rankwise does not use (they must be accepted).
        'alpha_pattern': {}, 'auto_mapping': None, 'base_model_name_or_path': base, 'bias': 'none', 'corda_config': None,
        'eva_config': None, 'exclude_modules': None, 'fan_in_fan_out': False, 'inference_mode': True, 'init_lora_weights': True,
        'layer_replication': None, 'layers_pattern': None, 'layers_to_transform': None, 'loftq_config': {}, 'lora_bias': False,
        'lora_dropout': 0.05, 'megatron_config': None, 'megatron_core': 'megatron.core', 'modules_to_save': None, 'peft_type': 'LORA',
        'qalora_group_size': 16, 'r': 8, 'rank_pattern': {}, 'revision': None, 'target_parameters': None, 'task_type': 'CAUSAL_LM',
        'trainable_token_indices': None, 'use_dora': False, 'use_qalora': False, 'use_rslora': False,
    }
    full.update(peft_config)
    json.dump(full, open(os.path.join(dir_, 'adapter_config.json'), 'w'), indent=2)


def tensor_list(t):
    return [round(float(v), 9) for v in t.flatten()]


def generate(out):
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)
    tokenizer, tokenizer_config, vocab, merges, eos = make_tokenizer()
    sentence = 'The Congress will consider the state of the union, and the people expect wisdom.'
    sentence_ids = bpe_encode(sentence, vocab, merges)
    llama = {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', '_name_or_path': 'rankwise/llama-tiny-random',
        'vocab_size': 384, 'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 2, 'max_position_embeddings': 64, 'rms_norm_eps': 1e-5,
        'rope_theta': 100000.0, 'rope_scaling': None, 'attention_bias': False, 'attention_dropout': 0.0, 'mlp_bias': False,
        'hidden_act': 'silu', 'tie_word_embeddings': True, 'bos_token_id': eos, 'eos_token_id': eos,
        'initializer_range': 0.02, 'pretraining_tp': 1, 'torch_dtype': 'float32', 'use_cache': True,
    }
    qwen2 = {
        'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'vocab_size': 384, 'hidden_size': 32,
        'intermediate_size': 48, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 1,
        'max_position_embeddings': 64, 'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0, 'rope_scaling': None,
        'hidden_act': 'silu', 'tie_word_embeddings': False, 'use_sliding_window': False, 'sliding_window': None,
        'max_window_layers': 2, 'attention_dropout': 0.0, 'bos_token_id': eos, 'eos_token_id': eos, 'torch_dtype': 'float32',
    }
    llama_w = make_model(llama, 1)
    qwen_w = make_model(qwen2, 2)
    for name, config, weights in [('llama-tiny', llama, llama_w), ('qwen2-tiny', qwen2, qwen_w)]:
        save_model(os.path.join(out, name), config, weights)
        json.dump(tokenizer, open(os.path.join(out, name, 'tokenizer.json'), 'w'), ensure_ascii=False)
        json.dump(tokenizer_config, open(os.path.join(out, name, 'tokenizer_config.json'), 'w'), indent=2)
    # The same llama weights stored as BF16 in two shards and as F16 (the values are exact in all three).
    save_model(os.path.join(out, 'llama-tiny-bf16-sharded'), {**llama, 'torch_dtype': 'bfloat16'}, llama_w, torch.bfloat16, shards=2)
    save_model(os.path.join(out, 'llama-tiny-f16'), {**llama, 'torch_dtype': 'float16'}, llama_w, torch.float16)

    adapters = {
        # PEFT users' short names, a regex rank_pattern key and a short alpha_pattern key.
        'adapter-qv': ('llama-tiny', {'target_modules': ['q_proj', 'v_proj'], 'r': 4, 'lora_alpha': 8,
                                      'rank_pattern': {'layers\\.1\\.self_attn\\.v_proj': 2}, 'alpha_pattern': {'q_proj': 12}}),
        # A regex string target (re.fullmatch), rsLoRA, on the untied Qwen2-style model with attention biases.
        'adapter-mlp-rslora': ('qwen2-tiny', {'target_modules': '.*\\.mlp\\.(gate|down)_proj', 'r': 4, 'lora_alpha': 6,
                                              'use_rslora': True, 'alpha_pattern': {'layers\\.1\\.mlp\\.down_proj': 3}}),
    }
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, eos, (2, 12), generator=g)
    ids[0, :len(sentence_ids[:12])] = torch.tensor(sentence_ids[:12])
    reference = {'ids': ids.tolist(), 'sentence': sentence, 'sentenceIds': sentence_ids, 'eosId': eos,
                 'logits': 'reference.safetensors: one F32 tensor [2, 12, 384] per model / adapter, computed in float64'}
    weights_by_model = {'llama-tiny': (llama, llama_w), 'qwen2-tiny': (qwen2, qwen_w)}
    logits = []
    for model_name, (config, weights) in weights_by_model.items():
        logits.append((model_name, forward(config, weights, ids).float()))
    for seed, (adapter_name, (model_name, peft)) in enumerate(adapters.items()):
        config, weights = weights_by_model[model_name]
        adapter_dir = os.path.join(out, adapter_name)
        make_adapter(adapter_dir, config, peft, 100 + seed, config.get('_name_or_path', f'./{model_name}'))
        logits.append((f'{model_name}+{adapter_name}', forward(config, weights, ids, adapter_deltas(config, adapter_dir)).float()))
    write_safetensors(os.path.join(out, 'reference.safetensors'), logits, {'format': 'pt'})
    json.dump(reference, open(os.path.join(out, 'reference.json'), 'w'), indent=1)
    print(f'wrote {out}: tokenizer of {eos + 1} tokens, {sum(v.numel() for v in llama_w.values())} llama parameters')


def apply(args):
    config, weights = read_checkpoint(args.model)
    deltas = adapter_deltas(config, args.adapter) if args.adapter else None
    ids = torch.tensor(json.load(open(args.ids)), dtype=torch.long)
    logits = forward(config, weights, ids, deltas)
    json.dump({'shape': list(logits.shape), 'logits': tensor_list(logits)}, open(args.out, 'w'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='command', required=True)
    g = sub.add_parser('generate')
    g.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'hf'))
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
