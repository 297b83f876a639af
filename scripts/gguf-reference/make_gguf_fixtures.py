#!/usr/bin/env python3
"""
GGUF fixtures written by llama.cpp's own Python tooling (gguf-py, the `gguf` package that convert_hf_to_gguf.py uses),
independently of rankwise's GGUF code:

1. test/fixtures/gguf/llama-tiny-<type>.gguf: the tiny random Llama of test/fixtures/hf/llama-tiny converted as
   convert_hf_to_gguf.py converts a LlamaForCausalLM (gguf-py's tensor name map, LlamaModel.permute on q/k, 1-D
   tensors F32, 2-D tensors quantized with gguf-py's quants.quantize: BF16, Q8_0, Q4_0), tokenizer as its gpt2 vocab
   (tokens, token types, SpecialVocab with merges and special ids).
2. test/fixtures/gguf/dequant-reference.json: random blocks of Q8_0, Q4_0, Q4_K and Q6_K (scales set to finite
   f16 values) and their values as gguf-py's quants.dequantize computes them (a numpy reimplementation of ggml's
   dequantize_row_*).

Needs numpy and gguf-py: `pip install gguf==0.19.0`. Run from the repository root:
  python3 scripts/gguf-reference/make_gguf_fixtures.py
The outputs are committed, so tests need no Python.
"""
import base64, json, os, struct, sys
import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HF = os.path.join(ROOT, 'test/fixtures/hf/llama-tiny')
OUT = os.path.join(ROOT, 'test/fixtures/gguf')


def read_safetensors(path):
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', info['dtype']
        start, end = info['data_offsets']
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype='<f4').reshape(info['shape']).copy()
    return out


def permute(w, n_head, n_head_kv):
    # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_model(qtype, ftype, suffix):
    cfg = json.load(open(os.path.join(HF, 'config.json')))
    tok = json.load(open(os.path.join(HF, 'tokenizer.json')))
    path = os.path.join(OUT, f'llama-tiny-{suffix}.gguf')
    w = gguf.GGUFWriter(path, 'llama')
    w.add_type('model')
    w.add_name('llama-tiny (gguf-py)')
    n_layers = cfg['num_hidden_layers']
    w.add_block_count(n_layers)
    w.add_context_length(cfg['max_position_embeddings'])
    w.add_embedding_length(cfg['hidden_size'])
    w.add_feed_forward_length(cfg['intermediate_size'])
    w.add_head_count(cfg['num_attention_heads'])
    w.add_head_count_kv(cfg['num_key_value_heads'])
    w.add_rope_freq_base(cfg['rope_theta'])
    w.add_layer_norm_rms_eps(cfg['rms_norm_eps'])
    w.add_file_type(ftype)
    w.add_vocab_size(cfg['vocab_size'])
    w.add_rope_dimension_count(cfg['hidden_size'] // cfg['num_attention_heads'])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # convert_hf_to_gguf.py get_vocab_base / _set_vocab_gpt2
    vocab = dict(tok['model']['vocab'])
    added = {t['id']: t for t in tok['added_tokens']}
    for t in added.values():
        vocab[t['content']] = t['id']
    reverse = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(cfg['vocab_size']):
        if i not in reverse:
            tokens.append(f'[PAD{i}]'); types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(reverse[i]); types.append(gguf.TokenType.CONTROL if added[i]['special'] else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i]); types.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model('gpt2')
    w.add_tokenizer_pre('gpt-2')
    w.add_token_list(tokens)
    w.add_token_types(types)
    special = gguf.SpecialVocab(HF, load_merges=True)
    special.add_to_gguf(w)
    w.add_add_bos_token(False)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    for name, data in read_safetensors(os.path.join(HF, 'model.safetensors')).items():
        if name.endswith('q_proj.weight'):
            data = permute(data, cfg['num_attention_heads'], cfg['num_attention_heads'])
        elif name.endswith('k_proj.weight'):
            data = permute(data, cfg['num_attention_heads'], cfg['num_key_value_heads'])
        new_name = names.get_name(name, try_suffixes=('.weight', '.bias'))
        assert new_name is not None, name
        if data.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(new_name, data.astype(np.float32))
        else:
            w.add_tensor(new_name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print('wrote', os.path.relpath(path, ROOT), os.path.getsize(path), 'bytes')


def dequant_reference():
    rng = np.random.RandomState(22)
    out = {}
    T = gguf.GGMLQuantizationType
    # (type, where the f16 scale fields sit in a block)
    for qtype, scale_at in [(T.Q8_0, [0]), (T.Q4_0, [0]), (T.Q4_K, [0, 2]), (T.Q6_K, [208])]:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = 2
        raw = rng.randint(0, 256, size=(n_blocks, size)).astype(np.uint8)
        for b in range(n_blocks):
            for at in scale_at:
                raw[b, at:at + 2] = np.frombuffer(np.float16(rng.uniform(-0.05, 0.05)).tobytes(), dtype=np.uint8)
        values = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
        assert values.size == n_blocks * block and np.all(np.isfinite(values))
        out[qtype.name] = {'bytes': base64.b64encode(raw.tobytes()).decode(), 'values': [float(v) for v in values]}
    path = os.path.join(OUT, 'dequant-reference.json')
    with open(path, 'w') as f:
        json.dump({'source': f'gguf-py {gguf.__name__} quants.dequantize', 'types': out}, f)
        f.write('\n')
    print('wrote', os.path.relpath(path, ROOT))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    T = gguf.GGMLQuantizationType
    F = gguf.LlamaFileType
    write_model(T.BF16, F.MOSTLY_BF16, 'bf16')
    write_model(T.Q8_0, F.MOSTLY_Q8_0, 'q8_0')
    write_model(T.Q4_0, F.MOSTLY_Q4_0, 'q4_0')
    dequant_reference()
