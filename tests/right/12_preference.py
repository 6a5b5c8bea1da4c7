"""Correct implementations of assignment 12_preference written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

RIGHT = {
    "p1": {
        "cross_entropy": {"p1_solution": "t = labels[:, 1:]\nnll = F.cross_entropy(logits[:, :-1].transpose(1, 2), t, ignore_index=-100, reduction='none')\n"
                                         "s = -nll.sum(-1)\nn = (t != -100).sum(-1)\nreturn torch.where(n > 0, s / n.clamp(min=1), torch.zeros_like(s)) if average else s"},
        "loop_over_rows": {"p1_solution": "out = []\nfor b in range(logits.shape[0]):\n    total, n = logits.new_zeros(()), 0\n"
                                          "    for t in range(1, logits.shape[1]):\n        if labels[b, t] != -100:\n"
                                          "            total = total + torch.log_softmax(logits[b, t - 1], -1)[labels[b, t]]\n            n += 1\n"
                                          "    out.append(total / n if average and n else total)\nreturn torch.stack(out)"},
        "logsumexp_and_masked_multiply": {"p1_solution": "x = logits[:, :-1]\nt = labels[:, 1:]\nm = (t != -100).to(x.dtype)\n"
                                                         "picked = x.gather(-1, t.masked_fill(t == -100, 0).unsqueeze(-1)).squeeze(-1)\n"
                                                         "lp = (picked - torch.logsumexp(x, -1)) * m\ns = lp.sum(-1)\n"
                                                         "return s / m.sum(-1).clamp(min=1) if average else s"},
        "float64_inside": {"p1_solution": "x = logits[:, :-1].double().log_softmax(-1)\nt = labels[:, 1:]\nm = t != -100\n"
                                          "lp = x.gather(-1, t.clamp(min=0)[..., None])[..., 0].masked_fill(~m, 0.0)\n"
                                          "s = lp.sum(-1)\nif average:\n    s = s / m.sum(-1).clamp(min=1)\nreturn s.to(logits.dtype)"},
    },
    "p2": {
        "softplus": {"p2_solution": "with torch.no_grad():\n    c = beta * (policy_chosen - ref_chosen)\n    r = beta * (policy_rejected - ref_rejected)\n"
                                    "z = beta * ((policy_chosen - policy_rejected) - (ref_chosen - ref_rejected).detach())\nreturn F.softplus(-z), c, r"},
        "logsigmoid_of_difference": {"p2_solution": "margin = (policy_chosen - ref_chosen.detach()) - (policy_rejected - ref_rejected.detach())\n"
                                                    "return -F.logsigmoid(beta * margin), (beta * (policy_chosen - ref_chosen)).detach(), (beta * (policy_rejected - ref_rejected)).detach()"},
        "logaddexp": {"p2_solution": "rc, rr = ref_chosen.detach(), ref_rejected.detach()\nz = beta * ((policy_chosen - rc) - (policy_rejected - rr))\n"
                                     "return torch.logaddexp(torch.zeros_like(z), -z), beta * (policy_chosen.detach() - rc), beta * (policy_rejected.detach() - rr)"},
    },
    "p3": {
        "breadth_first_search": {"p3_solution": "from collections import deque\nby = {}\nfor i, row in enumerate(rows):\n    for p, v in enumerate(row):\n"
                                                "        if v is not None:\n            by.setdefault((p, v), []).append(i)\n"
                                                "out = [-1] * len(rows)\nn = 0\nfor i in range(len(rows)):\n    if out[i] >= 0:\n        continue\n"
                                                "    out[i] = n\n    q = deque([i])\n    while q:\n        j = q.popleft()\n"
                                                "        for p, v in enumerate(rows[j]):\n            if v is None:\n                continue\n"
                                                "            for k in by.pop((p, v), []):\n                if out[k] < 0:\n                    out[k] = n\n                    q.append(k)\n"
                                                "    n += 1\nreturn out"},
        "union_by_value_nodes": {"p3_solution": "parent = {}\ndef find(x):\n    parent.setdefault(x, x)\n    while parent[x] != x:\n"
                                                "        parent[x] = parent[parent[x]]\n        x = parent[x]\n    return x\n"
                                                "for i, row in enumerate(rows):\n    find(('row', i))\n    for p, v in enumerate(row):\n        if v is not None:\n"
                                                "            parent[find(('value', p, v))] = find(('row', i))\n"
                                                "ids = {}\nreturn [ids.setdefault(find(('row', i)), len(ids)) for i in range(len(rows))]"},
        "relabel_smaller_group": {"p3_solution": "group, members, first = [None] * len(rows), {}, {}\n"
                                                 "for i, row in enumerate(rows):\n    g = i\n    group[i] = g\n    members[g] = [i]\n"
                                                 "    for p, v in enumerate(row):\n        if v is None:\n            continue\n"
                                                 "        j = first.setdefault((p, v), i)\n        h = group[j]\n"
                                                 "        if h != g:\n            small, big = sorted((g, h), key=lambda x: len(members[x]))\n"
                                                 "            for m in members[small]:\n                group[m] = big\n"
                                                 "            members[big] += members.pop(small)\n            g = big\n"
                                                 "ids = {}\nreturn [ids.setdefault(group[i], len(ids)) for i in range(len(rows))]"},
    },
    "p4": {
        "choice": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                  "    c = [r['completion'] for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                  "    if c:\n        out.append(dict(prompt=row['prompt'], chosen=row['completion'], rejected=rng.choice(c), group=row['group']))\nreturn out"},
        "shuffle_then_first": {"p4_solution": "rng = random.Random(seed)\nout = []\nfor row in rows:\n"
                                              "    c = [r for r in rows if r['task'] == row['task'] and r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                              "    if not c:\n        continue\n    rng.shuffle(c)\n"
                                              "    out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': c[0]['completion'], 'group': row['group']})\nreturn out"},
        "indexed_by_task": {"p4_solution": "from collections import defaultdict\nrng = random.Random(seed)\nby_task = defaultdict(list)\n"
                                           "for r in rows:\n    by_task[r['task']].append(r)\nout = []\nfor row in rows:\n"
                                           "    c = [r for r in by_task[row['task']] if r['group'] != row['group'] and r['completion'] != row['completion']]\n"
                                           "    if c:\n        pick = rng.sample(c, 1)[0]\n"
                                           "        out.append({'prompt': row['prompt'], 'chosen': row['completion'], 'rejected': pick['completion'], 'group': row['group']})\nreturn out"},
    },
    "p5": {
        "loop_over_rows": {"p5_solution": (
            "def dpo_batch(policy_logits, ref_logits, input_ids, attention_mask, prompt_lengths, beta=0.1):\n"
            "    def logps(logits):\n        out = []\n        for b in range(input_ids.shape[0]):\n            s = logits.new_zeros(())\n"
            "            for t in range(max(int(prompt_lengths[b]), 1), input_ids.shape[1]):\n"
            "                if attention_mask[b, t]:\n                    s = s + logits[b, t - 1].log_softmax(-1)[input_ids[b, t]]\n"
            "            out.append(s)\n        return torch.stack(out)\n"
            "    pc, pr = logps(policy_logits).chunk(2)\n    rc, rr = logps(ref_logits.detach()).chunk(2)\n"
            "    c, r = beta * (pc - rc), beta * (pr - rr)\n    return F.softplus(r - c), c.detach(), r.detach()")},
        "mask_built_from_a_range": {"p5_solution": (
            "def dpo_batch(policy_logits, ref_logits, input_ids, attention_mask, prompt_lengths, beta=0.1):\n"
            "    L = input_ids.shape[1]\n    answer = (torch.arange(L)[None, :] >= prompt_lengths[:, None]) & attention_mask.bool()\n"
            "    labels = torch.where(answer, input_ids, torch.full_like(input_ids, -100))\n"
            "    def logps(logits):\n        t = labels[:, 1:]\n"
            "        nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), t, ignore_index=-100, reduction='none')\n        return -nll.sum(-1)\n"
            "    pc, pr = logps(policy_logits).chunk(2)\n    with torch.no_grad():\n        rc, rr = logps(ref_logits).chunk(2)\n"
            "    c, r = beta * (pc - rc), beta * (pr - rr)\n    return -F.logsigmoid(c - r), c.detach(), r.detach()")},
    },
}
