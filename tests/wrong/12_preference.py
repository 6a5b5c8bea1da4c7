"""Wrong implementations of assignment 12_preference, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_GATHER = "lp = logits[:, :-1].log_softmax(-1).gather(-1, labels[:, 1:].clamp(min=0).unsqueeze(-1)).squeeze(-1)\n"
_SPEC_P3 = ("parent = list(range(len(rows)))\n"
            "def root(i):\n    while parent[i] != i:\n        i = parent[i]\n    return i\n")

WRONG = {
    "p1": {
        "not_shifted": {"p1_solution": "lp = logits.log_softmax(-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)\n"
                                       "m = labels != -100\ns = torch.where(m, lp, torch.zeros_like(lp)).sum(-1)\n"
                                       "return s / m.sum(-1).clamp(min=1) if average else s"},
        "mask_from_the_wrong_position": {"p1_solution": _GATHER + "m = labels[:, :-1] != -100\ns = torch.where(m, lp, torch.zeros_like(lp)).sum(-1)\n"
                                                        "return s / m.sum(-1).clamp(min=1) if average else s"},
        "average_over_every_position": {"p1_solution": _GATHER + "m = labels[:, 1:] != -100\ns = torch.where(m, lp, torch.zeros_like(lp)).sum(-1)\n"
                                                       "return s / max(labels.shape[1] - 1, 1) if average else s"},
        "nan_for_empty_rows": {"p1_solution": _GATHER + "m = labels[:, 1:] != -100\ns = torch.where(m, lp, torch.zeros_like(lp)).sum(-1)\n"
                                              "return s / m.sum(-1) if average else s"},
        "float32_result": {"p1_solution": _GATHER + "m = labels[:, 1:] != -100\ns = torch.where(m, lp, torch.zeros_like(lp)).sum(-1).float()\n"
                                          "return s / m.sum(-1).clamp(min=1) if average else s"},
        "labels_changed_in_place": {"p1_solution": "m = labels[:, 1:] != -100\nlabels[labels == -100] = 0\n" + _GATHER +
                                                   "s = torch.where(m, lp, torch.zeros_like(lp)).sum(-1)\nreturn s / m.sum(-1).clamp(min=1) if average else s"},
        "average_ignored": {"p1_solution": _GATHER + "m = labels[:, 1:] != -100\nreturn torch.where(m, lp, torch.zeros_like(lp)).sum(-1)"},
        "probabilities_not_logs": {"p1_solution": "p = logits[:, :-1].softmax(-1).gather(-1, labels[:, 1:].clamp(min=0).unsqueeze(-1)).squeeze(-1)\n"
                                                  "m = labels[:, 1:] != -100\ns = torch.where(m, p, torch.zeros_like(p)).sum(-1)\n"
                                                  "return s / m.sum(-1).clamp(min=1) if average else s"},
    },
    "p2": {
        "reference_gets_gradient": {"p2_solution": "c = beta * (policy_chosen - ref_chosen)\nr = beta * (policy_rejected - ref_rejected)\n"
                                                   "return -F.logsigmoid(c - r), c.detach(), r.detach()"},
        "rewards_keep_gradient": {"p2_solution": "c = beta * (policy_chosen - ref_chosen.detach())\nr = beta * (policy_rejected - ref_rejected.detach())\n"
                                                 "return -F.logsigmoid(c - r), c, r"},
        "log_of_sigmoid": {"p2_solution": "c = beta * (policy_chosen - ref_chosen.detach())\nr = beta * (policy_rejected - ref_rejected.detach())\n"
                                          "return -torch.log(torch.sigmoid(c - r)), c.detach(), r.detach()"},
        "rewards_without_beta": {"p2_solution": "c = policy_chosen - ref_chosen.detach()\nr = policy_rejected - ref_rejected.detach()\n"
                                                "return -F.logsigmoid(beta * (c - r)), c.detach(), r.detach()"},
        "sign_flipped": {"p2_solution": "c = beta * (policy_chosen - ref_chosen.detach())\nr = beta * (policy_rejected - ref_rejected.detach())\n"
                                        "return -F.logsigmoid(r - c), c.detach(), r.detach()"},
        "mean_not_per_pair": {"p2_solution": "c = beta * (policy_chosen - ref_chosen.detach())\nr = beta * (policy_rejected - ref_rejected.detach())\n"
                                             "return -F.logsigmoid(c - r).mean(), c.detach(), r.detach()"},
        "ratio_of_policies_only": {"p2_solution": "c = beta * (policy_chosen - ref_chosen.detach())\nr = beta * (policy_rejected - ref_rejected.detach())\n"
                                                  "return -F.logsigmoid(beta * (policy_chosen - policy_rejected)), c.detach(), r.detach()"},
    },
    "p3": {
        "values_link_across_positions": {"p3_solution": _SPEC_P3 + "first = {}\nfor i, row in enumerate(rows):\n    for v in row:\n        if v is None:\n            continue\n"
                                                        "        j = first.setdefault(v, i)\n        a, b = root(i), root(j)\n        if a != b:\n            parent[max(a, b)] = min(a, b)\n"
                                                        "ids = {}\nreturn [ids.setdefault(root(i), len(ids)) for i in range(len(rows))]"},
        "direct_links_only": {"p3_solution": "group, first, out = {}, {}, []\nfor i, row in enumerate(rows):\n"
                                             "    g = next((group[first[(p, v)]] for p, v in enumerate(row) if v is not None and (p, v) in first), None)\n"
                                             "    group[i] = len(set(group.values())) if g is None else g\n"
                                             "    for p, v in enumerate(row):\n        first.setdefault((p, v), i)\n    out.append(group[i])\nreturn out"},
        "recursive_search": {"p3_solution": "by = {}\nfor i, row in enumerate(rows):\n    for p, v in enumerate(row):\n        if v is not None:\n            by.setdefault((p, v), []).append(i)\n"
                                            "out = [None] * len(rows)\ndef visit(i, g):\n    if out[i] is not None:\n        return\n    out[i] = g\n"
                                            "    for p, v in enumerate(rows[i]):\n        if v is not None:\n            for j in by[(p, v)]:\n                visit(j, g)\n"
                                            "n = 0\nfor i in range(len(rows)):\n    if out[i] is None:\n        visit(i, n)\n        n += 1\nreturn out"},
        "ids_are_roots": {"p3_solution": _SPEC_P3 + "first = {}\nfor i, row in enumerate(rows):\n    for p, v in enumerate(row):\n        if v is None:\n            continue\n"
                                         "        j = first.setdefault((p, v), i)\n        a, b = root(i), root(j)\n        if a != b:\n            parent[max(a, b)] = min(a, b)\n"
                                         "return [root(i) for i in range(len(rows))]"},
        "none_links": {"p3_solution": _SPEC_P3 + "first = {}\nfor i, row in enumerate(rows):\n    for p, v in enumerate(row):\n"
                                      "        j = first.setdefault((p, v), i)\n        a, b = root(i), root(j)\n        if a != b:\n            parent[max(a, b)] = min(a, b)\n"
                                      "ids = {}\nreturn [ids.setdefault(root(i), len(ids)) for i in range(len(rows))]"},
    },
    "p4": {
        "same_group_allowed": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                              "    c = [r for r in rows if r is not row and r['task'] == row['task'] and r['completion'] != row['completion']]\n"
                                              "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[rng.randrange(len(c))]['completion'], 'group': row['group']})\nreturn out"},
        "any_task": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                    "    c = [r for r in rows if r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                    "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[rng.randrange(len(c))]['completion'], 'group': row['group']})\nreturn out"},
        "global_generator": {"p4_solution": "random.seed(seed)\nout = []\nfor row in rows:\n"
                                            "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                            "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': random.choice(c)['completion'], 'group': row['group']})\nreturn out"},
        "always_the_first_candidate": {"p4_solution": "out = []\nfor row in rows:\n"
                                                      "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                                      "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[0]['completion'], 'group': row['group']})\nreturn out"},
        "same_text_allowed": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                             "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group']]\n"
                                             "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[rng.randrange(len(c))]['completion'], 'group': row['group']})\nreturn out"},
        "rows_changed": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                        "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                        "    if c:\n        row['rejected'] = c[rng.randrange(len(c))]['completion']\n"
                                        "        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': row['rejected'], 'group': row['group']})\nreturn out"},
        "fixed_seed": {"p4_solution": "rng = random.Random(0)\nout = []\nfor row in rows:\n"
                                      "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                      "    if c:\n        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[rng.randrange(len(c))]['completion'], 'group': row['group']})\nreturn out"},
    },
}

_P5_HEAD = ("def dpo_batch(policy_logits, ref_logits, input_ids, attention_mask, prompt_lengths, beta=0.1):\n"
            "    labels = input_ids.masked_fill(attention_mask == 0, -100)\n")
_P5_TAIL = ("    target = labels[:, 1:]\n    scored = target != -100\n"
            "    def logps(logits, scored=scored, target=target):\n"
            "        t = logits[:, :-1].log_softmax(-1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)\n"
            "        return torch.where(scored, t, torch.zeros_like(t)).sum(-1)\n"
            "    pc, pr = logps(policy_logits).chunk(2)\n    rc, rr = ref_logps(ref_logits).chunk(2)\n"
            "    c, r = beta * (pc - rc), beta * (pr - rr)\n    return -F.logsigmoid(c - r), c.detach(), r.detach()\n")
_POS = "    pos = torch.arange(input_ids.shape[1])[None, :]\n"

WRONG["p5"] = {
    "unchanged": {"p5_solution": "dpo_batch = buggy_dpo_batch"},
    "one_token_too_many": {"p5_solution": _P5_HEAD + _POS + "    labels = labels.masked_fill(pos <= prompt_lengths[:, None], -100)\n"
                                          + _P5_TAIL.replace("ref_logps(", "logps(")},
    "one_token_too_few": {"p5_solution": _P5_HEAD + _POS + "    labels = labels.masked_fill(pos < prompt_lengths[:, None] - 1, -100)\n"
                                         + _P5_TAIL.replace("ref_logps(", "logps(")},
    "prompt_masked_for_the_policy_only": {"p5_solution": _P5_HEAD + "    full = labels[:, 1:]\n" + _POS
                                          + "    labels = labels.masked_fill(pos < prompt_lengths[:, None], -100)\n"
                                          + _P5_TAIL.replace("ref_logps(ref_logits)", "logps(ref_logits, full != -100, full)")},
    "first_prompt_length_for_every_row": {"p5_solution": _P5_HEAD + _POS + "    labels = labels.masked_fill(pos < prompt_lengths[0], -100)\n"
                                          + _P5_TAIL.replace("ref_logps(", "logps(")},
}
