"""Correct implementations of assignment 07_evaluation written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

RIGHT = {
    "p1": {"zip_ngrams_and_logs": {"p1_solution": [
               "if c == 0: return 0.0\nreturn 1.0 if c >= r else float(np.exp(1 - r / c))",
               "return Counter(zip(*(tokens[i:] for i in range(n)))) if n <= len(tokens) else Counter()",
               "stats = np.zeros((4, 2))\nc = r = 0\nfor hyp, refs in zip(hypotheses, references):\n    c += len(hyp)\n"
               "    lens = sorted(len(x) for x in refs)\n    r += min(lens, key=lambda L: abs(L - len(hyp)))\n"
               "    for n in range(1, 5):\n        h = ngrams(hyp, n)\n        best = Counter()\n        for ref in refs: best |= ngrams(ref, n)\n"
               "        stats[n - 1] += [sum((h & best).values()), sum(h.values())]\n"
               "if (stats[:, 0] == 0).any(): return 0.0\nreturn float(100 * brevity_penalty(c, r) * np.exp(np.log(stats[:, 0] / stats[:, 1]).mean()))"]},
           "product_of_precisions": {"p1_solution": [
               "if c >= r: return 1.0\nif c == 0: return 0.0\nreturn math.exp(1.0 - float(r) / c)",
               "out = Counter()\nfor i in range(len(tokens) - n + 1): out[tuple(tokens[i:i + n])] += 1\nreturn out",
               "m, t = [0] * 4, [0] * 4\nc = r = 0\nfor hyp, refs in zip(hypotheses, references):\n    c += len(hyp)\n"
               "    r += sorted((abs(len(x) - len(hyp)), len(x)) for x in refs)[0][1]\n    for n in range(4):\n"
               "        h = ngrams(hyp, n + 1)\n        refcounts = [ngrams(x, n + 1) for x in refs]\n"
               "        m[n] += sum(min(k, max(rc[g] for rc in refcounts)) for g, k in h.items())\n        t[n] += max(len(hyp) - n, 0)\n"
               "if 0 in m: return 0.0\nprod = 1.0\nfor a, b in zip(m, t): prod *= a / b\nreturn 100 * brevity_penalty(c, r) * prod ** 0.25"]}},
    "p2": {"log_softmax_gather": {"p2_solution": [
               "lp = torch.log_softmax(logits[:, :-1].double(), -1)\ny = labels[:, 1:]\nmask = y != -100\n"
               "picked = lp.gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)\nreturn float(-(picked * mask).sum()), int(mask.sum())",
               "pairs = [masked_nll(l, y) for l, y in batches]\nn = sum(k for _, k in pairs)\nif not n: raise ValueError('nothing scored')\n"
               "return float(np.exp(sum(s for s, _ in pairs) / n))"]},
           "float32_loss": {"p2_solution": [
               "y = labels[:, 1:].reshape(-1)\nloss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), y, ignore_index=-100, reduction='sum')\n"
               "return loss.item(), int(y.ne(-100).sum().item())",
               "tot, cnt = 0.0, 0\nfor b in batches:\n    s, n = masked_nll(*b)\n    tot, cnt = tot + s, cnt + n\n"
               "if cnt <= 0:\n    raise ValueError('no token is scored')\nreturn math.exp(tot / cnt)"]}},
    "p3": {"confusion_matrix": {"p3_solution": [
               "cm = np.zeros((num_classes, num_classes))\nnp.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)\n"
               "tp = np.diag(cm)\nprec = np.divide(tp, cm.sum(0), out=np.zeros(num_classes), where=cm.sum(0) > 0)\n"
               "rec = np.divide(tp, cm.sum(1), out=np.zeros(num_classes), where=cm.sum(1) > 0)\n"
               "return np.divide(2 * prec * rec, prec + rec, out=np.zeros(num_classes), where=(prec + rec) > 0)",
               "return float(np.mean(f1_per_class(y_true, y_pred, num_classes)))"]},
           "counts_formula": {"p3_solution": [
               "t, p = np.asarray(y_true), np.asarray(y_pred)\nf = []\nfor k in range(num_classes):\n"
               "    tp = int(((t == k) & (p == k)).sum()); fp = int(((t != k) & (p == k)).sum()); fn = int(((t == k) & (p != k)).sum())\n"
               "    f.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)\nreturn np.array(f, dtype=float)",
               "f = f1_per_class(y_true, y_pred, num_classes)\nreturn float(sum(f) / num_classes)"]}},
    "p4": {"loop_over_resamples": {"p4_solution":
               "a = np.array(a, dtype=np.float64); b = np.array(b, dtype=np.float64)\nrng = np.random.default_rng(seed)\n"
               "idx = rng.integers(0, len(a), size=(n_resamples, len(a)))\ndiffs = np.array([b[i].mean() - a[i].mean() for i in idx])\n"
               "obs = abs(b.mean() - a.mean())\ncount = sum(1 for x in diffs - diffs.mean() if abs(x) >= obs)\nreturn (count + 1) / (n_resamples + 1)"},
           "difference_vector": {"p4_solution":
               "diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)\nn = diff.size\n"
               "idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))\nboot = diff[idx].mean(axis=1)\n"
               "return float((1 + np.count_nonzero(np.abs(boot - boot.mean()) >= abs(diff.mean()))) / (n_resamples + 1))"}},
    "p5": {"loop": {"p5_solution": "hyps = []\nfor seq, n in zip(sequences, prompt_lengths):\n    hyps.append([vocab[t] for t in list(seq)[n:]])\n"
                                   "return corpus_bleu(hyps, [[list(r)] for r in references])"},
           "slice_then_map": {"p5_solution": "answers = [seq[n:] for seq, n in zip(sequences, prompt_lengths)]\n"
                                             "return corpus_bleu([list(map(vocab.__getitem__, a)) for a in answers], [[r] for r in references])"}},
}

# Equivalent to the specification although they look different: F1 is symmetric in precision and recall; numpy's
# choice(n, size) draws the same indices as integers(0, n, size); 2 ** (nats / ln 2) is exp(nats).
MORE = {
    "p2": {"base_two_of_bits": {"p2_solution": [
               "target = labels[:, 1:]\nnll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), target.reshape(-1), ignore_index=-100, reduction='sum')\n"
               "return nll.item(), int((target != -100).sum())",
               "total, count = 0.0, 0\nfor logits, labels in batches:\n    s, n = masked_nll(logits, labels)\n    total += s; count += n\n"
               "if count == 0: raise ValueError('no scored tokens')\nreturn 2 ** (total / count / math.log(2))"]}},
    "p3": {"precision_recall_swapped": {"p3_solution": [
               "t, p = np.asarray(y_true), np.asarray(y_pred)\nout = np.zeros(num_classes)\nfor k in range(num_classes):\n"
               "    tp = np.sum((t == k) & (p == k)); fp = np.sum((t == k) & (p != k)); fn = np.sum((t != k) & (p == k))\n"
               "    prec = tp / (tp + fp) if tp + fp else 0.0\n    rec = tp / (tp + fn) if tp + fn else 0.0\n"
               "    out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0\nreturn out",
               "return float(f1_per_class(y_true, y_pred, num_classes).mean())"]}},
    "p4": {"choice": {"p4_solution": "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nn = len(a)\nidx = np.random.default_rng(seed).choice(n, size=(n_resamples, n))\n"
                                     "d = b.mean() - a.mean()\nds = b[idx].mean(1) - a[idx].mean(1)\nreturn float((1 + np.sum(np.abs(ds - ds.mean()) >= abs(d))) / (n_resamples + 1))"}},
}
for _part, _vs in MORE.items(): RIGHT.setdefault(_part, {}).update(_vs)
