#!/usr/bin/env python3
"""Reference renderings and loss masks for rankwise's language-model data formats (issue 20, items 3 and 8).

Needs only Python's jinja2 and regex (Debian: python3-jinja2, python3-regex): no transformers, no trl, no tokenizers.

* Chat templates are rendered as transformers' apply_chat_template renders them (transformers
  utils/chat_template_utils.py `_compile_jinja_template`): an ImmutableSandboxedEnvironment with trim_blocks and
  lstrip_blocks, the loopcontrols extension, `raise_exception`, a `tojson` filter that is json.dumps with
  ensure_ascii=False, and an extension for `{% generation %}` blocks that records the character span each block writes
  (transformers' AssistantTracker). Variables: messages, add_generation_prompt, bos_token, eos_token.
* Tokens come from a byte-level BPE written here from the tokenizer.json format (added tokens split out first, GPT-2
  pre-tokenizer regex, bytes_to_unicode, merges applied by rank), with character offsets, so `char_to_token` is exact.
* Loss masks follow TRL's SFTTrainer (trl/trainer/sft_trainer.py `_prepare_dataset`, trl/data_utils.py):
  - chat, assistant-only: transformers' assistant_masks (tokens from char_to_token(start) to char_to_token(end - 1)
    of each span); templates without {% generation %} blocks use rankwise's documented rule instead (TRL swaps in
    hand-edited training templates): the span of assistant message i is what the template adds between rendering
    messages[:i] with the generation prompt and rendering messages[:i+1];
  - completion: prompt ids and prompt + completion + eos ids tokenized separately, the first len(prompt ids) tokens
    masked (completion_mask); text: text + eos unless it ends with it;
  - labels = id where every applicable mask is 1, else -100; truncation keep_start / keep_end, then examples without
    a loss token dropped; packing "bfd" / "bfd_split" (best fit decreasing, position ids restarting per example, the
    first label of each example -100 as the padding-free collator sets it) and "wrapped".

Usage: reference.py [--fixtures test/fixtures/chat-templates]  (writes reference.json there; deterministic)
"""
import argparse, json, os
from collections import defaultdict, deque

import jinja2
import jinja2.ext
import regex
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

IGNORE = -100

# ------------------------------------------------------------------------------------------------ jinja environment


class AssistantTracker(jinja2.ext.Extension):
    """{% generation %} ... {% endgeneration %}: records the [start, end) character span the block wrote."""

    tags = {'generation'}

    def __init__(self, environment):
        super().__init__(environment)
        environment.extend(activate_tracker=self.activate_tracker)
        self._rendered_blocks = None
        self._generation_indices = None

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(['name:endgeneration'], drop_needle=True)
        return nodes.CallBlock(self.call_method('_generation_support'), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        rv = caller()
        if self._rendered_blocks is not None:
            start = len(''.join(self._rendered_blocks))
            self._generation_indices.append((start, start + len(rv)))
        return rv

    def activate_tracker(self, rendered_blocks, generation_indices):
        self._rendered_blocks = rendered_blocks
        self._generation_indices = generation_indices


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters['tojson'] = tojson
    env.globals['raise_exception'] = raise_exception
    return env.from_string(source)


def render(template, family, messages, add_generation_prompt):
    return template.render(messages=messages, add_generation_prompt=add_generation_prompt, bos_token=family['bos_token'], eos_token=family['eos_token'])


def render_with_spans(template, family, messages):
    """The whole conversation and its generation spans, as transformers' render_jinja_template collects them."""
    blocks, indices = [], []
    template.environment.activate_tracker(blocks, indices)
    for chunk in template.generate(messages=messages, add_generation_prompt=False, bos_token=family['bos_token'], eos_token=family['eos_token']):
        blocks.append(chunk)
    template.environment.activate_tracker(None, None)
    return ''.join(blocks), indices


def prefix_spans(template, family, messages):
    """rankwise's rule for templates without generation blocks (see the module doc)."""
    text = render(template, family, messages, False)
    spans = []
    for i, m in enumerate(messages):
        if m['role'] != 'assistant':
            continue
        before = render(template, family, messages[:i], True)
        through = render(template, family, messages[: i + 1], False)
        assert text.startswith(before) and text.startswith(through), f'not prefix-preserving at message {i}'
        if len(through) > len(before):
            spans.append((len(before), len(through)))
    return text, spans


# ------------------------------------------------------------------------------------------------ byte-level BPE


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


GPT2 = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


class ByteLevelBpe:
    def __init__(self, tokenizer_json):
        model = tokenizer_json['model']
        self.vocab = model['vocab']
        self.ranks = {tuple(m) if isinstance(m, list) else tuple(m.split(' ')): i for i, m in enumerate(model['merges'])}
        self.added = {t['content']: t['id'] for t in tokenizer_json['added_tokens']}
        self.added_pattern = regex.compile('|'.join(regex.escape(t) for t in sorted(self.added, key=len, reverse=True))) if self.added else None
        self.byte_char = bytes_to_unicode()

    def _bpe(self, word):
        pieces = list(word)
        while len(pieces) > 1:
            pairs = [(self.ranks.get((a, b), None), i) for i, (a, b) in enumerate(zip(pieces, pieces[1:]))]
            pairs = [(r, i) for r, i in pairs if r is not None]
            if not pairs:
                break
            rank = min(r for r, _ in pairs)
            a, b = [p for p in self.ranks if self.ranks[p] == rank][0]
            out, i = [], 0
            while i < len(pieces):
                if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(pieces[i])
                    i += 1
            pieces = out
        return pieces

    def _encode_plain(self, text, base):
        ids, offsets = [], []
        for m in GPT2.finditer(text):
            word = m.group(0)
            raw = word.encode('utf-8')
            # byte index -> character index inside the word
            char_of_byte = []
            for ci, ch in enumerate(word):
                char_of_byte += [ci] * len(ch.encode('utf-8'))
            mapped = ''.join(self.byte_char[b] for b in raw)
            at = 0
            for piece in self._bpe(mapped):
                first, last = at, at + len(piece) - 1
                ids.append(self.vocab[piece])
                offsets.append((base + m.start() + char_of_byte[first], base + m.start() + char_of_byte[last] + 1))
                at += len(piece)
        return ids, offsets

    def encode(self, text):
        """ids and [start, end) character offsets of each token (added tokens split out first)."""
        ids, offsets, at = [], [], 0
        matches = list(self.added_pattern.finditer(text)) if self.added_pattern else []
        for m in matches:
            i, o = self._encode_plain(text[at : m.start()], at)
            ids += i
            offsets += o
            ids.append(self.added[m.group(0)])
            offsets.append((m.start(), m.end()))
            at = m.end()
        i, o = self._encode_plain(text[at:], at)
        return ids + i, offsets + o


def char_to_token(offsets, char):
    for t, (s, e) in enumerate(offsets):
        if s <= char < e:
            return t
    return None


def assistant_mask(offsets, spans):
    """transformers' apply_chat_template(return_assistant_tokens_mask=True)."""
    mask = [0] * len(offsets)
    for start, end in spans:
        start_token = char_to_token(offsets, start)
        end_token = char_to_token(offsets, end - 1)
        if start_token is None:
            break
        for t in range(start_token, end_token + 1 if end_token is not None else len(offsets)):
            mask[t] = 1
    return mask


# ------------------------------------------------------------------------------------------------ TRL's rules


def build_labels(ids, masks):
    return [i if all(bits) else IGNORE for i, *bits in zip(ids, *masks)]


def truncate(ids, labels, max_length, mode):
    """None when the example keeps no loss token (TRL drops it)."""
    if len(ids) > max_length:
        sl = slice(None, max_length) if mode == 'keep_start' else slice(-max_length, None)
        ids, labels = ids[sl], labels[sl]
    return None if all(l == IGNORE for l in labels) else (ids, labels)


def pack_bfd(examples, seq_length, split):
    pieces = []
    for ids, labels in examples:
        if not ids:
            continue
        if len(ids) <= seq_length:
            pieces.append((ids, labels))
        elif not split:
            pieces.append((ids[:seq_length], labels[:seq_length]))
        else:
            for s in range(0, len(ids), seq_length):
                pieces.append((ids[s : s + seq_length], labels[s : s + seq_length]))
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i][0]))  # stable, as pyarrow's sort
    bins, space_to_bin = [], defaultdict(deque)
    for idx in order:
        length = len(pieces[idx][0])
        fitting = [s for s, d in space_to_bin.items() if d and s >= length]
        if fitting:
            space = min(fitting)
            b = space_to_bin[space].popleft()
        else:
            b = {'ids': [], 'length': 0}
            bins.append(b)
        b['ids'].append(idx)
        b['length'] += length
        left = seq_length - b['length']
        if left > 0:
            space_to_bin[left].append(b)
    out = []
    for b in bins:
        ids, labels, positions = [], [], []
        for idx in b['ids']:
            p_ids, p_labels = pieces[idx]
            ids += p_ids
            labels += [IGNORE] + p_labels[1:]  # the padding-free collator: labels[position_ids == 0] = -100
            positions += list(range(len(p_ids)))
        out.append({'inputIds': ids, 'labels': labels, 'positionIds': positions})
    return out


def pack_wrapped(examples, seq_length):
    ids = [i for e in examples for i in e[0]]
    labels = [l for e in examples for l in e[1]]
    return [{'inputIds': ids[s : s + seq_length], 'labels': labels[s : s + seq_length]} for s in range(0, len(ids), seq_length)]


# ------------------------------------------------------------------------------------------------ main


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--fixtures', default='test/fixtures/chat-templates')
    args = parser.parse_args()
    load = lambda name: json.load(open(os.path.join(args.fixtures, name), encoding='utf-8'))
    families = load('templates.json')['families']
    conversations = load('conversations.json')['conversations']
    bpe = ByteLevelBpe(load('tokenizer.json'))

    renders, masks = {}, {}
    for family in families:
        template = compile_template(family['template'])
        has_markers = regex.search(r'\{%-?\s*generation\s*-?%\}', family['template']) is not None
        renders[family['name']], masks[family['name']] = {}, {}
        for conv in conversations:
            if conv['system'] and not family['system']:
                continue
            messages = conv['messages']
            full = render(template, family, messages, False)
            prompt = render(template, family, messages[:-1], True)
            renders[family['name']][conv['name']] = {'full': full, 'prompt': prompt}
            text, spans = render_with_spans(template, family, messages) if has_markers else prefix_spans(template, family, messages)
            assert text == full
            ids, offsets = bpe.encode(text)
            mask = assistant_mask(offsets, spans)
            masks[family['name']][conv['name']] = {'inputIds': ids, 'labels': build_labels(ids, [mask]), 'promptIds': bpe.encode(prompt)[0]}

    # completion (prompt-completion, non-conversational) and text examples, with the eos of the ChatML families
    eos = '<|im_end|>'
    completions = []
    for conv in conversations:
        prompt = ''.join(m['content'] + '\n' for m in conv['messages'][:-1])
        completion = conv['messages'][-1]['content']
        prompt_ids = bpe.encode(prompt)[0]
        full_ids = bpe.encode(prompt + (completion if completion.endswith(eos) else completion + eos))[0]
        completion_mask = [0] * len(prompt_ids) + [1] * (len(full_ids) - len(prompt_ids))
        completions.append({'prompt': prompt, 'completion': completion, 'inputIds': full_ids, 'labels': build_labels(full_ids, [completion_mask]), 'promptIds': prompt_ids})
    texts = []
    for conv in conversations:
        text = ' '.join(m['content'] for m in conv['messages'])
        ids = bpe.encode(text if text.endswith(eos) else text + eos)[0]
        texts.append({'text': text, 'inputIds': ids, 'labels': list(ids)})

    # truncation and packing of the chat examples of one family
    examples = [(e['inputIds'], e['labels']) for e in masks['smollm2'].values()]
    truncation = {}
    for mode in ('keep_start', 'keep_end'):
        for max_length in (24, 40):
            kept = [truncate(i, l, max_length, mode) for i, l in examples]
            truncation[f'{mode}/{max_length}'] = [None if k is None else {'inputIds': k[0], 'labels': k[1]} for k in kept]
    text_examples = [(t['inputIds'], t['labels']) for t in texts]
    packing = {
        'bfd/48': pack_bfd(examples, 48, False),
        'bfd_split/48': pack_bfd(examples, 48, True),
        'bfd/20': pack_bfd(text_examples, 20, False),
        'bfd_split/20': pack_bfd(text_examples, 20, True),
        'wrapped/20': pack_wrapped(text_examples, 20),
    }
    out = {'renders': renders, 'masks': masks, 'completions': completions, 'texts': texts, 'truncation': truncation, 'packing': packing}
    with open(os.path.join(args.fixtures, 'reference.json'), 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
