"""Correct implementations of assignment 01_data written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

RIGHT = {
    "p1": {"loop": {"p1_solution": "ids, labels = [], []\nfor t in prompt_ids:\n    ids.append(t); labels.append(-100)\n"
                                   "for t in list(completion_ids) + [eos_id]:\n    ids.append(t); labels.append(t)\n"
                                   "n = min(len(ids), max_length)\nreturn {'input_ids': ids[:n], 'labels': labels[:n], 'attention_mask': [1 for _ in range(n)]}"},
           "slices_first": {"p1_solution": "full = [*prompt_ids, *completion_ids, eos_id][:max_length]\nn_prompt = min(len(prompt_ids), len(full))\n"
                                           "return dict(input_ids=full, attention_mask=[1] * len(full), labels=[-100] * n_prompt + full[n_prompt:])"}},
    "p2": {"torch_full_then_fill": {"p2_solution": "L = max(len(e['input_ids']) for e in examples)\nB = len(examples)\n"
                                                   "ids = torch.full((B, L), pad_id, dtype=torch.long)\nmask = torch.zeros(B, L, dtype=torch.long)\nlab = torch.full((B, L), -100, dtype=torch.long)\n"
                                                   "for i, e in enumerate(examples):\n    n = len(e['input_ids'])\n    ids[i, :n] = torch.tensor(e['input_ids'])\n"
                                                   "    mask[i, :n] = torch.tensor(e['attention_mask'])\n    lab[i, :n] = torch.tensor(e['labels'])\n"
                                                   "return {'input_ids': ids, 'attention_mask': mask, 'labels': lab}"},
           "pad_sequence": {"p2_solution": "from torch.nn.utils.rnn import pad_sequence\n"
                                           "def col(key, value):\n    return pad_sequence([torch.tensor(e[key], dtype=torch.long) for e in examples], batch_first=True, padding_value=value)\n"
                                           "return {'input_ids': col('input_ids', pad_id), 'attention_mask': col('attention_mask', 0), 'labels': col('labels', -100)}"}},
    "p3": {"shuffle_then_slice": {"p3_solution": "uniq = list(dict.fromkeys(groups))\nif len(uniq) < 2:\n    raise ValueError('fewer than 2 groups')\n"
                                                 "k = round(test_fraction * len(uniq))\nk = max(1, min(k, len(uniq) - 1))\nrng = random.Random(seed)\nrng.shuffle(uniq)\n"
                                                 "chosen = set(uniq[:k])\ntest = [i for i, g in enumerate(groups) if g in chosen]\n"
                                                 "train = [i for i, g in enumerate(groups) if g not in chosen]\nreturn train, test"},
           "numpy_style_masks": {"p3_solution": "distinct = sorted(set(groups), key=str)\nif len(distinct) <= 1:\n    raise ValueError('need two groups')\n"
                                                "k = min(len(distinct) - 1, max(1, round(test_fraction * len(distinct))))\n"
                                                "picked = random.Random(seed).sample(range(len(distinct)), k)\nin_test = {distinct[j] for j in picked}\n"
                                                "flags = [g in in_test for g in groups]\n"
                                                "return [i for i, f in enumerate(flags) if not f], [i for i, f in enumerate(flags) if f]"}},
    "p4": {"running_length": {"p4_solution": "rows, cur, used = [], [], 0\nfor s in sequences:\n    if len(s) > max_length:\n        raise ValueError('sequence too long')\n"
                                             "    if used + len(s) > max_length:\n        rows.append(cur); cur, used = [], 0\n    cur.append(s); used += len(s)\n"
                                             "if cur: rows.append(cur)\nids = torch.full((len(rows), max_length), pad_id, dtype=torch.long)\n"
                                             "labels = torch.full((len(rows), max_length), -100, dtype=torch.long)\npos = torch.zeros((len(rows), max_length), dtype=torch.long)\n"
                                             "for i, row in enumerate(rows):\n    j = 0\n    for s in row:\n        n = len(s)\n"
                                             "        ids[i, j:j + n] = torch.tensor(s)\n        labels[i, j + 1:j + n] = torch.tensor(s[1:], dtype=torch.long)\n"
                                             "        pos[i, j:j + n] = torch.arange(n)\n        j += n\n    pos[i, j:] = torch.arange(max_length - j)\n"
                                             "return {'input_ids': ids, 'labels': labels, 'position_ids': pos}"}},
    "p5": {"split_join_and_intersection": {"p5_solution": "def norm(t):\n    return ' '.join(t.lower().split())\n"
                                                         "def grams(t):\n    t = norm(t)\n    if t == '':\n        return frozenset()\n"
                                                         "    return frozenset([t]) if len(t) < n else frozenset(t[i:i + n] for i in range(len(t) - n + 1))\n"
                                                         "G = [grams(t) for t in texts]\n"
                                                         "return [(i, j) for i in range(len(G)) for j in range(i + 1, len(G)) if G[i] and G[j] and len(G[i].intersection(G[j])) / len(G[i].union(G[j])) >= threshold]"},
           "itertools_combinations": {"p5_solution": "from itertools import combinations\n"
                                                     "def grams(t):\n    t = re.sub(r'\\s+', ' ', t).lower().strip()\n"
                                                     "    return set() if not t else {t} if len(t) < n else set(t[i:i + n] for i in range(len(t) - n + 1))\n"
                                                     "sets = list(map(grams, texts))\npairs = []\nfor (i, a), (j, b) in combinations(enumerate(sets), 2):\n"
                                                     "    if not a or not b:\n        continue\n    inter = len(a & b)\n    if inter / (len(a) + len(b) - inter) >= threshold:\n"
                                                     "        pairs.append((i, j))\nreturn sorted(pairs)"}},
}

# Written after the probes, as a held-out check (all accepted before any probe changed): clipping the scaled
# gradients to max_norm * scale and float32 quantiles are equivalent to the specification, not mistakes.
HELD_OUT = {'p3': {'sorted_by_str': {'p3_solution': 'u = sorted(set(groups), key=lambda g: (type(g).__name__, str(g)))\n'
                                         "if len(u) < 2: raise ValueError('need 2')\n"
                                         'k = max(1, min(len(u) - 1, round(test_fraction * len(u))))\n'
                                         't = set(random.Random(seed).sample(u, k))\n'
                                         'return [i for i, g in enumerate(groups) if g not in t], [i for i, g in enumerate(groups) if g in t]'}},
 'p5': {'casefold': {'p5_solution': 'def G(t):\n'
                                    "    t = ' '.join(t.casefold().split())\n"
                                    '    return set() if not t else {t} if len(t) < n else {t[i:i + n] for i in range(len(t) - n + 1)}\n'
                                    'S = [G(t) for t in texts]\n'
                                    'return sorted((i, j) for i in range(len(S)) for j in range(i + 1, len(S)) if S[i] and S[j] and len(S[i] & S[j]) '
                                    '>= threshold * len(S[i] | S[j]))'}}}
for _part, _vs in HELD_OUT.items(): RIGHT.setdefault(_part, {}).update(_vs)

MORE = {
    "p4": {"lists_per_row_then_stack": {"p4_solution": "for s in sequences:\n    if len(s) > max_length:\n        raise ValueError(f'sequence of {len(s)} > {max_length}')\n"
                                                      "rows, room = [], 0\nfor s in sequences:\n    if not rows or len(s) > room:\n        rows.append([]); room = max_length\n"
                                                      "    rows[-1].append(s); room -= len(s)\n"
                                                      "def row(parts):\n    ids = sum((list(p) for p in parts), [])\n    lab = sum(([-100] + list(p[1:]) for p in parts), [])\n"
                                                      "    pos = sum((list(range(len(p))) for p in parts), [])\n    pad = max_length - len(ids)\n"
                                                      "    return ids + [pad_id] * pad, lab + [-100] * pad, pos + list(range(pad))\n"
                                                      "cols = list(zip(*[row(r) for r in rows]))\n"
                                                      "return {'input_ids': torch.tensor(cols[0]), 'labels': torch.tensor(cols[1]), 'position_ids': torch.tensor(cols[2])}"}},
    "p1": {"comprehension": {"p1_solution": "seq = [*prompt_ids, *completion_ids, eos_id]\nkeep = min(max_length, len(seq))\n"
                                            "return {'input_ids': seq[:keep], 'attention_mask': [1] * keep,\n"
                                            "        'labels': [(-100 if i < len(prompt_ids) else t) for i, t in enumerate(seq[:keep])]}"}},
}
for _part, _vs in MORE.items(): RIGHT.setdefault(_part, {}).update(_vs)
