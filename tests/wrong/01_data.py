"""Wrong implementations of assignment 01_data, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_P1 = """ids = list(prompt_ids) + list(completion_ids) + [eos_id]
labels = {labels}
ids, labels = ids[:max_length], labels[:max_length]
return {{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}}"""

_P2 = """L = max(len(e["input_ids"]) for e in examples)
out = {{"input_ids": [], "attention_mask": [], "labels": []}}
for e in examples:
    n = L - len(e["input_ids"])
    out["input_ids"].append({ids})
    out["attention_mask"].append({mask})
    out["labels"].append({labels})
return {{k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}}"""

_P3 = """uniq = sorted(set(groups), key=repr)
if len(uniq) < 2:
    raise ValueError("need at least 2 groups")
k = {k}
test_groups = set({choose})
train = [i for i, g in enumerate(groups) if g not in test_groups]
test = [i for i, g in enumerate(groups) if g in test_groups]
return train, test"""

_P4 = """rows = [[]]
for s in sequences:
    if len(s) > max_length:
        raise ValueError("too long")
    if sum(len(x) for x in rows[-1]) + len(s) > max_length:
        rows.append([])
    rows[-1].append(list(s))
rows = [r for r in rows if r]
out = {{"input_ids": [], "labels": [], "position_ids": []}}
for r in rows:
    ids = [t for s in r for t in s]
    labels = {labels}
    pos = {pos}
    n = max_length - len(ids)
    out["input_ids"].append(ids + [pad_id] * n)
    out["labels"].append(labels + [{label_pad}] * n)
    out["position_ids"].append(pos + list(range(n)))
return {{k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}}"""

_P5 = """def grams(t):
    t = {norm}
    if not t:
        return set()
    if len(t) < n:
        return {{t}}
    return {grams}
sets = [grams(t) for t in texts]
out = []
for i in range(len(sets)):
    for j in range(i + 1, len(sets)):
        a, b = sets[i], sets[j]
        if {cond}:
            out.append((i, j))
return out"""

_NORM = 're.sub(r"\\s+", " ", t.lower()).strip()'
_GRAMS = "{t[k:k + n] for k in range(len(t) - n + 1)}"
_COND = "a and b and len(a & b) / len(a | b) >= threshold"

WRONG = {
    "p1": {
        "off_by_one": {"p1_solution": _P1.format(labels="[-100] * (len(prompt_ids) + 1) + list(completion_ids)[1:] + [eos_id]")},
        "masks_answer": {"p1_solution": _P1.format(labels="list(prompt_ids) + [-100] * len(completion_ids) + [-100]")},
        "eos_masked": {"p1_solution": _P1.format(labels="[-100] * len(prompt_ids) + list(completion_ids) + [-100]")},
        "no_eos": {"p1_solution": """ids = (list(prompt_ids) + list(completion_ids))[:max_length]
labels = ([-100] * len(prompt_ids) + list(completion_ids))[:max_length]
return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}"""},
        "truncates_left": {"p1_solution": """ids = list(prompt_ids) + list(completion_ids) + [eos_id]
labels = [-100] * len(prompt_ids) + list(completion_ids) + [eos_id]
ids, labels = ids[-max_length:], labels[-max_length:]
return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}"""},
        "masks_by_value": {"p1_solution": """ids = (list(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]
labels = [-100 if t in prompt_ids else t for t in ids]
return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}"""},
    },
    "p2": {
        "labels_padded_with_pad_id": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='list(e["attention_mask"]) + [0] * n', labels='list(e["labels"]) + [pad_id] * n')},
        "left_padding": {"p2_solution": _P2.format(ids='[pad_id] * n + list(e["input_ids"])', mask='[0] * n + list(e["attention_mask"])', labels='[-100] * n + list(e["labels"])')},
        "mask_all_ones": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='[1] * L', labels='list(e["labels"]) + [-100] * n')},
        "labels_from_input_ids": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='list(e["attention_mask"]) + [0] * n', labels='list(e["input_ids"]) + [-100] * n')},
    },
    "p3": {
        "row_level_random": {"p3_solution": """idx = list(range(len(groups)))
random.Random(seed).shuffle(idx)
n_test = max(1, round(test_fraction * len(groups)))
return sorted(idx[n_test:]), sorted(idx[:n_test])"""},
        "ignores_seed": {"p3_solution": _P3.format(k="min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)", choose="uniq[:k]")},
        "fraction_of_rows": {"p3_solution": _P3.format(k="min(max(round(test_fraction * len(groups)), 1), len(uniq) - 1)", choose="random.Random(seed).sample(uniq, k)")},
        "split_inside_groups": {"p3_solution": """uniq = sorted(set(groups), key=repr)
if len(uniq) < 2:
    raise ValueError("need at least 2 groups")
k = min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)
test_groups = set(random.Random(seed).sample(uniq, k))
test = [i for i, g in enumerate(groups) if g in test_groups]
rng = random.Random(seed)
for i, g in enumerate(groups):
    if g not in test_groups and rng.random() < 0.05:
        test.append(i)
test = sorted(test)
train = [i for i in range(len(groups)) if i not in set(test)]
return train, test"""},
    },
    "p4": {
        "positions_do_not_restart": {"p4_solution": _P4.format(labels="[l for s in r for l in ([-100] + s[1:])]", pos="list(range(len(ids)))", label_pad="-100")},
        "no_boundary_mask": {"p4_solution": _P4.format(labels="list(ids)", pos="[p for s in r for p in range(len(s))]", label_pad="-100")},
        "pads_labelled": {"p4_solution": _P4.format(labels="[l for s in r for l in ([-100] + s[1:])]", pos="[p for s in r for p in range(len(s))]", label_pad="pad_id")},
        "splits_sequences": {"p4_solution": """flat_ids, flat_labels, flat_pos = [], [], []
for s in sequences:
    if len(s) > max_length:
        raise ValueError("too long")
    flat_ids += list(s); flat_labels += [-100] + list(s[1:]); flat_pos += list(range(len(s)))
out = {"input_ids": [], "labels": [], "position_ids": []}
for k in range(0, len(flat_ids), max_length):
    ids, labels, pos = flat_ids[k:k + max_length], flat_labels[k:k + max_length], flat_pos[k:k + max_length]
    n = max_length - len(ids)
    out["input_ids"].append(ids + [pad_id] * n)
    out["labels"].append(labels + [-100] * n)
    out["position_ids"].append(pos + list(range(n)))
return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}"""},
    },
    "p5": {
        "no_normalization": {"p5_solution": _P5.format(norm="t", grams=_GRAMS, cond=_COND)},
        "strictly_greater": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond="a and b and len(a & b) / len(a | b) > threshold")},
        "containment": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond="a and b and len(a & b) / min(len(a), len(b)) >= threshold")},
        "word_shingles": {"p5_solution": _P5.format(norm=_NORM, grams="set(t.split())", cond=_COND)},
        "empty_texts_match": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond="(len(a & b) / len(a | b) if (a or b) else 1.0) >= threshold")},
    },
}

# Mistakes the specification invites (mutated inputs, labelling by value, a pad id that is a real token,
# rounding, the global generator, first fit, whitespace and punctuation): each must lose points on its part.
MORE = {
    "p1": {"extends_prompt_in_place": {"p1_solution": "ids = prompt_ids\nids += list(completion_ids) + [eos_id]\n"
                                                      "labels = [-100] * (len(ids) - len(completion_ids) - 1) + list(completion_ids) + [eos_id]\n"
                                                      "ids, labels = ids[:max_length], labels[:max_length]\n"
                                                      "return {'input_ids': ids, 'attention_mask': [1] * len(ids), 'labels': labels}"},
           "eos_labelled_by_value": {"p1_solution": "ids = (list(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]\n"
                                                    "labels = [t if (i >= len(prompt_ids) or t == eos_id) else -100 for i, t in enumerate(ids)]\n"
                                                    "return {'input_ids': ids, 'attention_mask': [1] * len(ids), 'labels': labels}"},
           "truncates_before_eos": {"p1_solution": "ids = (list(prompt_ids) + list(completion_ids))[:max_length - 1] + [eos_id]\n"
                                                   "labels = ([-100] * len(prompt_ids) + list(completion_ids))[:max_length - 1] + [eos_id]\n"
                                                   "return {'input_ids': ids, 'attention_mask': [1] * len(ids), 'labels': labels}"},
           "mask_zero_on_prompt": {"p1_solution": _P1.format(labels="[-100] * len(prompt_ids) + list(completion_ids) + [eos_id]").replace(
               '"attention_mask": [1] * len(ids)', '"attention_mask": ([0] * len(prompt_ids) + [1] * (len(completion_ids) + 1))[:max_length]')}},
    "p2": {"mask_from_pad_id": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='[int(t != pad_id) for t in list(e["input_ids"]) + [pad_id] * n]', labels='list(e["labels"]) + [-100] * n')},
           "labels_masked_by_value": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='list(e["attention_mask"]) + [0] * n',
                                                              labels='[-100 if t == pad_id else l for t, l in zip(list(e["input_ids"]) + [pad_id] * n, list(e["labels"]) + [-100] * n)]')},
           "pads_examples_in_place": {"p2_solution": "L = max(len(e['input_ids']) for e in examples)\nfor e in examples:\n    n = L - len(e['input_ids'])\n"
                                                     "    e['input_ids'] += [pad_id] * n; e['attention_mask'] += [0] * n; e['labels'] += [-100] * n\n"
                                                     "return {k: torch.tensor([e[k] for e in examples], dtype=torch.long) for k in ('input_ids', 'attention_mask', 'labels')}"},
           "int32_tensors": {"p2_solution": _P2.format(ids='list(e["input_ids"]) + [pad_id] * n', mask='list(e["attention_mask"]) + [0] * n', labels='list(e["labels"]) + [-100] * n').replace("torch.long", "torch.int32")}},
    "p3": {"ceil_groups": {"p3_solution": _P3.format(k="min(max(math.ceil(test_fraction * len(uniq)), 1), len(uniq) - 1)", choose="random.Random(seed).sample(uniq, k)").replace("uniq = ", "import math\nuniq = ", 1)},
           "floor_groups": {"p3_solution": _P3.format(k="min(max(int(test_fraction * len(uniq)), 1), len(uniq) - 1)", choose="random.Random(seed).sample(uniq, k)")},
           "no_clipping": {"p3_solution": _P3.format(k="round(test_fraction * len(uniq))", choose="random.Random(seed).sample(uniq, k)")},
           "global_random": {"p3_solution": _P3.format(k="min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)", choose="(random.seed(seed), random.sample(uniq, k))[1]")},
           "test_in_group_order": {"p3_solution": "uniq = sorted(set(groups), key=repr)\nif len(uniq) < 2:\n    raise ValueError('need 2 groups')\n"
                                                  "k = min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)\nchosen = random.Random(seed).sample(uniq, k)\n"
                                                  "test = [i for g in chosen for i, h in enumerate(groups) if h == g]\ntrain = [i for i, g in enumerate(groups) if g not in set(chosen)]\n"
                                                  "return train, test"},
           "no_error_single_group": {"p3_solution": "uniq = sorted(set(groups), key=repr)\nk = min(max(round(test_fraction * len(uniq)), 1), max(len(uniq) - 1, 1))\n"
                                                    "test_groups = set(random.Random(seed).sample(uniq, min(k, len(uniq))))\n"
                                                    "return [i for i, g in enumerate(groups) if g not in test_groups], [i for i, g in enumerate(groups) if g in test_groups]"}},
    "p4": {"first_fit": {"p4_solution": "rows = []\nfor s in sequences:\n    if len(s) > max_length:\n        raise ValueError('too long')\n"
                                        "    for r in rows:\n        if sum(map(len, r)) + len(s) <= max_length:\n            r.append(list(s)); break\n"
                                        "    else:\n        rows.append([list(s)])\n"
                                        "out = {'input_ids': [], 'labels': [], 'position_ids': []}\nfor r in rows:\n"
                                        "    ids = [t for s in r for t in s]\n    n = max_length - len(ids)\n"
                                        "    out['input_ids'].append(ids + [pad_id] * n)\n    out['labels'].append([l for s in r for l in [-100] + s[1:]] + [-100] * n)\n"
                                        "    out['position_ids'].append([p for s in r for p in range(len(s))] + list(range(n)))\n"
                                        "return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}"},
           "pads_masked_by_value": {"p4_solution": _P4.format(labels="[l for s in r for l in ([-100] + s[1:])]", pos="[p for s in r for p in range(len(s))]", label_pad="-100").replace(
               'out["labels"].append(labels + [-100] * n)', 'out["labels"].append([-100 if t == pad_id else l for t, l in zip(ids + [pad_id] * n, labels + [-100] * n)])')},
           "pad_positions_zero": {"p4_solution": _P4.format(labels="[l for s in r for l in ([-100] + s[1:])]", pos="[p for s in r for p in range(len(s))]", label_pad="-100").replace(
               'out["position_ids"].append(pos + list(range(n)))', 'out["position_ids"].append(pos + [0] * n)')},
           "strict_room": {"p4_solution": _P4.format(labels="[l for s in r for l in ([-100] + s[1:])]", pos="[p for s in r for p in range(len(s))]", label_pad="-100").replace(
               "sum(len(x) for x in rows[-1]) + len(s) > max_length", "sum(len(x) for x in rows[-1]) + len(s) >= max_length")}},
    "p5": {"strips_punctuation": {"p5_solution": _P5.format(norm='re.sub(r"\\s+", " ", re.sub(r"[^\\w\\s]", "", t.lower())).strip()', grams=_GRAMS, cond=_COND)},
           "spaces_only": {"p5_solution": _P5.format(norm='re.sub(r" +", " ", t.lower()).strip()', grams=_GRAMS, cond=_COND)},
           "no_strip": {"p5_solution": _P5.format(norm='re.sub(r"\\s+", " ", t.lower())', grams=_GRAMS, cond=_COND)},
           "keeps_case": {"p5_solution": _P5.format(norm='re.sub(r"\\s+", " ", t).strip()', grams=_GRAMS, cond=_COND)},
           "short_text_empty_set": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond=_COND).replace("return {{t}}", "return set()").replace("return {t}", "return set()")},
           "dice_not_jaccard": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond="a and b and 2 * len(a & b) / (len(a) + len(b)) >= threshold")},
           "ignores_n": {"p5_solution": _P5.format(norm=_NORM, grams="{t[k:k + 5] for k in range(len(t) - 4)}", cond=_COND)},
           "unsorted_pairs": {"p5_solution": _P5.format(norm=_NORM, grams=_GRAMS, cond=_COND).replace("return out", "return sorted(out, key=lambda p: (p[1], p[0]))")}},
}
for _part, _vs in MORE.items(): WRONG[_part].update(_vs)

# Written after the probes, as a held-out check of how they generalise (all caught before any probe changed).
HELD_OUT = {'p1': {'eos_forced_last': {'p1_solution': 'ids = (list(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]\n'
                                           'labels = ([-100] * len(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]\n'
                                           'ids[-1] = eos_id; labels[-1] = eos_id\n'
                                           "return {'input_ids': ids, 'attention_mask': [1] * len(ids), 'labels': labels}"},
        'mask_padded_to_max': {'p1_solution': 'ids = (list(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]\n'
                                              'labels = ([-100] * len(prompt_ids) + list(completion_ids) + [eos_id])[:max_length]\n'
                                              "return {'input_ids': ids, 'attention_mask': [1] * max_length, 'labels': labels}"}},
 'p2': {'labels_pad_zero': {'p2_solution': "L = max(len(e['input_ids']) for e in examples)\n"
                                           'f = lambda e, k, v: list(e[k]) + [v] * (L - len(e[k]))\n'
                                           "return {'input_ids': torch.tensor([f(e, 'input_ids', pad_id) for e in examples]), 'attention_mask': "
                                           "torch.tensor([f(e, 'attention_mask', 0) for e in examples]), 'labels': torch.tensor([f(e, 'labels', 0) "
                                           'for e in examples])}'},
        'mask_padded_with_pad_id': {'p2_solution': "L = max(len(e['input_ids']) for e in examples)\n"
                                                   'f = lambda e, k, v: list(e[k]) + [v] * (L - len(e[k]))\n'
                                                   "return {'input_ids': torch.tensor([f(e, 'input_ids', pad_id) for e in examples]), "
                                                   "'attention_mask': torch.tensor([f(e, 'attention_mask', pad_id) for e in examples]), 'labels': "
                                                   "torch.tensor([f(e, 'labels', -100) for e in examples])}"}},
 'p3': {'choice_with_replacement': {'p3_solution': 'uniq = sorted(set(groups), key=repr)\n'
                                                   'if len(uniq) < 2:\n'
                                                   "    raise ValueError('x')\n"
                                                   'k = min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)\n'
                                                   'rng = random.Random(seed)\n'
                                                   'chosen = {rng.choice(uniq) for _ in range(k)}\n'
                                                   'return [i for i, g in enumerate(groups) if g not in chosen], [i for i, g in enumerate(groups) if '
                                                   'g in chosen]'},
        'shuffles_input': {'p3_solution': 'uniq = list(dict.fromkeys(groups))\n'
                                          'if len(uniq) < 2:\n'
                                          "    raise ValueError('x')\n"
                                          'k = min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)\n'
                                          'random.Random(seed).shuffle(groups)\n'
                                          'chosen = set(sorted(set(groups), key=repr)[:k])\n'
                                          'return [i for i, g in enumerate(groups) if g not in chosen], [i for i, g in enumerate(groups) if g in '
                                          'chosen]'},
        'swapped_sides': {'p3_solution': 'uniq = sorted(set(groups), key=repr)\n'
                                         'if len(uniq) < 2:\n'
                                         "    raise ValueError('x')\n"
                                         'k = min(max(round(test_fraction * len(uniq)), 1), len(uniq) - 1)\n'
                                         'chosen = set(random.Random(seed).sample(uniq, k))\n'
                                         'return [i for i, g in enumerate(groups) if g in chosen], [i for i, g in enumerate(groups) if g not in '
                                         'chosen]'}},
 'p4': {'mask_last_not_first': {'p4_solution': 'rows = [[]]\n'
                                               'for s in sequences:\n'
                                               "    if len(s) > max_length: raise ValueError('x')\n"
                                               '    if sum(map(len, rows[-1])) + len(s) > max_length: rows.append([])\n'
                                               '    rows[-1].append(list(s))\n'
                                               "out = {'input_ids': [], 'labels': [], 'position_ids': []}\n"
                                               'for r in rows:\n'
                                               '    ids = [t for s in r for t in s]; n = max_length - len(ids)\n'
                                               "    out['input_ids'].append(ids + [pad_id] * n)\n"
                                               "    out['labels'].append([l for s in r for l in s[:-1] + [-100]] + [-100] * n)\n"
                                               "    out['position_ids'].append([p for s in r for p in range(len(s))] + list(range(n)))\n"
                                               'return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}'},
        'no_length_check': {'p4_solution': 'rows = [[]]\n'
                                           'for s in sequences:\n'
                                           '    if rows[-1] and sum(map(len, rows[-1])) + len(s) > max_length: rows.append([])\n'
                                           '    rows[-1].append(list(s))\n'
                                           "out = {'input_ids': [], 'labels': [], 'position_ids': []}\n"
                                           'for r in rows:\n'
                                           '    ids = [t for s in r for t in s][:max_length]; n = max_length - len(ids)\n'
                                           "    out['input_ids'].append(ids + [pad_id] * n)\n"
                                           "    out['labels'].append(([l for s in r for l in [-100] + s[1:]])[:max_length] + [-100] * n)\n"
                                           "    out['position_ids'].append(([p for s in r for p in range(len(s))])[:max_length] + list(range(n)))\n"
                                           'return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}'}},
 'p5': {'ngram_off_by_one': {'p5_solution': 'def grams(t):\n'
                                            "    t = re.sub(r'\\s+', ' ', t.lower()).strip()\n"
                                            '    if not t: return set()\n'
                                            '    if len(t) < n: return {t}\n'
                                            '    return {t[k:k + n] for k in range(len(t) - n)} or {t}\n'
                                            'S = [grams(t) for t in texts]\n'
                                            'return [(i, j) for i in range(len(S)) for j in range(i + 1, len(S)) if S[i] and S[j] and len(S[i] & '
                                            'S[j]) / len(S[i] | S[j]) >= threshold]'},
        'union_not_subtracted': {'p5_solution': 'def grams(t):\n'
                                                "    t = re.sub(r'\\s+', ' ', t.lower()).strip()\n"
                                                '    if not t: return set()\n'
                                                '    if len(t) < n: return {t}\n'
                                                '    return {t[k:k + n] for k in range(len(t) - n + 1)}\n'
                                                'S = [grams(t) for t in texts]\n'
                                                'return [(i, j) for i in range(len(S)) for j in range(i + 1, len(S)) if S[i] and S[j] and 2 * '
                                                'len(S[i] & S[j]) / (len(S[i]) + len(S[j])) >= threshold and len(S[i] & S[j]) / (len(S[i]) + '
                                                'len(S[j])) >= threshold / 2]'},
        'list_of_lists_unsorted_j': {'p5_solution': 'def grams(t):\n'
                                                    "    t = re.sub(r'\\s+', ' ', t.lower()).strip()\n"
                                                    '    if not t: return set()\n'
                                                    '    if len(t) < n: return {t}\n'
                                                    '    return {t[k:k + n] for k in range(len(t) - n + 1)}\n'
                                                    'S = [grams(t) for t in texts]\n'
                                                    'out = [(i, j) for j in range(len(S)) for i in range(j) if S[i] and S[j] and len(S[i] & S[j]) / '
                                                    'len(S[i] | S[j]) >= threshold]\n'
                                                    'return out'}}}
for _part, _vs in HELD_OUT.items(): WRONG[_part].update(_vs)
