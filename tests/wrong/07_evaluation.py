"""Wrong implementations of assignment 07_evaluation, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_NGRAMS = "return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))"
_BP = "if c >= r: return 1.0\nreturn math.exp(1 - r / c) if c > 0 else 0.0"


def _bleu(ref_len="min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), L))",
          clip="sum(min(k, most[g]) for g, k in h.items())", final=None):
    final = final or "if min(matches) == 0: return 0.0\nreturn 100 * brevity_penalty(c, r) * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / 4)"
    return ("matches, totals, c, r = [0] * 4, [0] * 4, 0, 0\nfor hyp, refs in zip(hypotheses, references):\n    c += len(hyp)\n"
            f"    r += {ref_len}\n    for n in range(1, 5):\n        h = ngrams(hyp, n)\n        most = Counter()\n"
            "        for ref in refs:\n            for g, k in ngrams(ref, n).items(): most[g] = max(most[g], k)\n"
            f"        matches[n - 1] += {clip}\n        totals[n - 1] += sum(h.values())\n" + final)


_F1_LOOP = ("t, p = np.asarray(y_true), np.asarray(y_pred)\nout = np.zeros(num_classes)\nfor k in range(num_classes):\n"
            "    tp = np.sum((t == k) & (p == k)); fp = np.sum((t != k) & (p == k)); fn = np.sum((t == k) & (p != k))\n"
            "    prec = tp / (tp + fp) if tp + fp else 0.0\n    rec = tp / (tp + fn) if tp + fn else 0.0\n")

WRONG = {
    "p1": {"unclipped_precision": {"p1_solution": [_BP, _NGRAMS, _bleu(clip="sum(k for g, k in h.items() if g in most)")]},
           "penalty_for_long_outputs": {"p1_solution": ["return math.exp(1 - r / c) if c > 0 else 0.0", _NGRAMS, _bleu()]},
           "shortest_reference": {"p1_solution": [_BP, _NGRAMS, _bleu(ref_len="min(len(x) for x in refs)")]},
           "mean_of_sentence_bleu": {"p1_solution": [_BP, _NGRAMS,
               "scores = []\nfor hyp, refs in zip(hypotheses, references):\n"
               "    r = min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), L))\n    ps = []\n"
               "    for n in range(1, 5):\n        h = ngrams(hyp, n); most = Counter()\n"
               "        for ref in refs:\n            for g, k in ngrams(ref, n).items(): most[g] = max(most[g], k)\n"
               "        ps.append(sum(min(k, most[g]) for g, k in h.items()) / max(sum(h.values()), 1))\n"
               "    scores.append(0.0 if min(ps) == 0 else 100 * brevity_penalty(len(hyp), r) * math.exp(sum(math.log(x) for x in ps) / 4))\n"
               "return sum(scores) / len(scores)"]}},
    "p2": {"mean_of_batch_means": {"p2_solution": [
               "target = labels[:, 1:]\nnll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), target.reshape(-1), ignore_index=-100, reduction='sum')\nreturn nll.item(), int((target != -100).sum())",
               "means = []\nfor logits, labels in batches:\n    s, n = masked_nll(logits, labels)\n    if n: means.append(s / n)\nif not means: raise ValueError('no scored tokens')\nreturn math.exp(sum(means) / len(means))"]},
           "no_shift": {"p2_solution": [
               "nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), labels.reshape(-1), ignore_index=-100, reduction='sum')\nreturn nll.item(), int((labels != -100).sum())"]},
           "masked_positions_scored_as_token_0": {"p2_solution": [
               "target = labels[:, 1:].clamp(min=0)\nnll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), target.reshape(-1), reduction='sum')\nreturn nll.item(), int(target.numel())"]},
           "mutates_logits": {"p2_solution": [
               "target = labels[:, 1:]\nlogits[:, :-1] -= logits[:, :-1].max(-1, keepdim=True).values\n"
               "nll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), target.reshape(-1), ignore_index=-100, reduction='sum')\nreturn nll.item(), int((target != -100).sum())"]}},
    "p3": {"arithmetic_mean_of_p_and_r": {"p3_solution": [_F1_LOOP + "    out[k] = (prec + rec) / 2\nreturn out", "return float(f1_per_class(y_true, y_pred, num_classes).mean())"]},
           "absent_classes_skipped": {"p3_solution": [_F1_LOOP + "    out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0\nreturn out",
                                                      "f = f1_per_class(y_true, y_pred, num_classes)\npresent = np.isin(np.arange(num_classes), np.r_[y_true, y_pred])\nreturn float(f[present].mean())"]},
           "zero_division_one": {"p3_solution": [_F1_LOOP.replace("if tp + fp else 0.0", "if tp + fp else 1.0").replace("if tp + fn else 0.0", "if tp + fn else 1.0")
                                                 + "    out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0\nreturn out",
                                                 "return float(f1_per_class(y_true, y_pred, num_classes).mean())"]}},
    "p4": {"moses_centring": {"p4_solution":
               "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nidx = np.random.default_rng(seed).integers(0, len(a), size=(n_resamples, len(a)))\n"
               "ds = np.abs(b[idx].mean(1) - a[idx].mean(1))\nreturn float((1 + np.sum(ds - ds.mean() > abs(b.mean() - a.mean()))) / (n_resamples + 1))"},
           "unpaired": {"p4_solution":
               "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nrng = np.random.default_rng(seed)\n"
               "ia = rng.integers(0, len(a), size=(n_resamples, len(a))); ib = rng.integers(0, len(a), size=(n_resamples, len(a)))\n"
               "ds = b[ib].mean(1) - a[ia].mean(1)\nreturn float((1 + np.sum(np.abs(ds - ds.mean()) >= abs(b.mean() - a.mean()))) / (n_resamples + 1))"},
           "global_random_state": {"p4_solution":
               "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nnp.random.seed(seed)\nnp.random.randint(0, 2)\n"
               "idx = np.random.default_rng(seed).integers(0, len(a), size=(n_resamples, len(a)))\n"
               "ds = b[idx].mean(1) - a[idx].mean(1)\nreturn float((1 + np.sum(np.abs(ds - ds.mean()) >= abs(b.mean() - a.mean()))) / (n_resamples + 1))"}},
    "p5": {"prompt_left_in": {"p5_solution": "hypotheses = [[vocab[i] for i in seq] for seq in sequences]\nreturn corpus_bleu(hypotheses, [[ref] for ref in references])"},
           "first_prompt_length_for_all": {"p5_solution": "hypotheses = [[vocab[i] for i in seq[prompt_lengths[0]:]] for seq in sequences]\nreturn corpus_bleu(hypotheses, [[ref] for ref in references])"},
           "prompt_as_reference_too": {"p5_solution": "hypotheses = [[vocab[i] for i in seq] for seq in sequences]\nrefs = [[vocab[i] for i in seq[:n]] + ref for seq, n, ref in zip(sequences, prompt_lengths, references)]\nreturn corpus_bleu(hypotheses, [[r] for r in refs])"}},
}

# Mistakes the specification invites: each must lose points on its part.
_NLL = ("target = labels[:, 1:]\nnll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), target.reshape(-1), ignore_index=-100, reduction='sum')\n"
        "return nll.item(), int((target != -100).sum())")
_PPL = ("total, count = 0.0, 0\nfor logits, labels in batches:\n    s, n = masked_nll(logits, labels)\n    total += s; count += n\n"
        "if count == 0: raise ValueError('no scored tokens')\nreturn math.exp(total / count)")
_F1_END = "    out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0\nreturn out"
_BOOT = ("a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nn = len(a)\nidx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))\n"
         "d = b.mean() - a.mean()\nds = b[idx].mean(1) - a[idx].mean(1)\nreturn float((1 + np.sum({cond})) / (n_resamples + 1))")
MORE = {
    "p1": {"shortest_on_tie_ignored": {"p1_solution": [_BP, _NGRAMS, _bleu(ref_len="min((len(x) for x in refs), key=lambda L: abs(L - len(hyp)))")]},
           "longest_on_tie": {"p1_solution": [_BP, _NGRAMS, _bleu(ref_len="min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), -L))")]},
           "clip_by_sum_of_references": {"p1_solution": [_BP, _NGRAMS, _bleu(clip="sum(min(k, sum(ngrams(ref, n)[g] for ref in refs)) for g, k in h.items())")]},
           "arithmetic_mean_of_precisions": {"p1_solution": [_BP, _NGRAMS, _bleu(final="if min(matches) == 0: return 0.0\nreturn 100 * brevity_penalty(c, r) * sum(m / t for m, t in zip(matches, totals)) / 4")]},
           "zero_penalty_inverted": {"p1_solution": ["if c >= r: return 1.0\nreturn math.exp(1 - c / r) if c > 0 else 0.0", _NGRAMS, _bleu()]},
           "ngrams_off_by_one": {"p1_solution": [_BP, "return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n))", _bleu()]},
           "scale_0_to_1": {"p1_solution": [_BP, _NGRAMS, _bleu(final="if min(matches) == 0: return 0.0\nreturn brevity_penalty(c, r) * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / 4)")]}},
    "p2": {"mean_not_sum": {"p2_solution": [_NLL.replace("reduction='sum'", "reduction='mean'"), _PPL.replace("total / count", "total / max(len([1]), 1)")]},
           "no_error_when_empty": {"p2_solution": [_NLL, _PPL.replace("if count == 0: raise ValueError('no scored tokens')\n", "if count == 0: return float('nan')\n")]},
           "list_only": {"p2_solution": [_NLL, "if len(batches) == 0: raise ValueError('none')\n" + _PPL]},
           "counts_first_position": {"p2_solution": [_NLL.replace("int((target != -100).sum())", "int((labels != -100).sum())"), _PPL]},
           "nats_as_bits": {"p2_solution": [_NLL, _PPL.replace("math.exp(total / count)", "2 ** (total / count)")]}},
    "p3": {"micro_not_macro": {"p3_solution": [_F1_LOOP + _F1_END, "t, p = np.asarray(y_true), np.asarray(y_pred)\nreturn float((t == p).mean())"]},
           "weighted_by_support": {"p3_solution": [_F1_LOOP + _F1_END,
                                                   "f = f1_per_class(y_true, y_pred, num_classes)\nw = np.bincount(np.asarray(y_true), minlength=num_classes)\nreturn float((f * w).sum() / w.sum())"]},
           "false_positives_miscounted": {"p3_solution": [_F1_LOOP.replace("fp = np.sum((t != k) & (p == k))", "fp = np.sum(t != k)") + _F1_END,
                                                         "return float(f1_per_class(y_true, y_pred, num_classes).mean())"]},
           "classes_from_data": {"p3_solution": ["t, p = np.asarray(y_true), np.asarray(y_pred)\nks = sorted(set(t.tolist()) | set(p.tolist()))\nout = np.zeros(num_classes)\nfor k in ks:\n"
                                                 "    tp = np.sum((t == k) & (p == k)); fp = np.sum((t != k) & (p == k)); fn = np.sum((t == k) & (p != k))\n"
                                                 "    prec = tp / (tp + fp) if tp + fp else 0.0\n    rec = tp / (tp + fn) if tp + fn else 0.0\n"
                                                 "    out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0\nreturn out[:len(ks)] if len(ks) < num_classes else out",
                                                 "return float(f1_per_class(y_true, y_pred, num_classes).mean())"]}},
    "p4": {"not_shifted": {"p4_solution": _BOOT.format(cond="np.abs(ds) >= abs(d)")},
           "strict_inequality": {"p4_solution": _BOOT.format(cond="np.abs(ds - ds.mean()) > abs(d)")},
           "no_plus_one": {"p4_solution": "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nn = len(a)\nidx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))\n"
                                          "d = b.mean() - a.mean()\nds = b[idx].mean(1) - a[idx].mean(1)\nreturn float(np.mean(np.abs(ds - ds.mean()) >= abs(d)))"},
           "one_sided": {"p4_solution": _BOOT.format(cond="(ds - ds.mean()) >= d")},
           "resamples_one_system": {"p4_solution": "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\nn = len(a)\nidx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))\n"
                                                   "d = b.mean() - a.mean()\nds = b.mean() - a[idx].mean(1)\nreturn float((1 + np.sum(np.abs(ds - ds.mean()) >= abs(d))) / (n_resamples + 1))"}},
    "p5": {"off_by_one_prompt": {"p5_solution": "hypotheses = [[vocab[i] for i in seq[n + 1:]] for seq, n in zip(sequences, prompt_lengths)]\nreturn corpus_bleu(hypotheses, [[ref] for ref in references])"},
           "ids_not_words": {"p5_solution": "hypotheses = [[str(i) for i in seq[n:]] for seq, n in zip(sequences, prompt_lengths)]\nreturn corpus_bleu(hypotheses, [[ref] for ref in references])"},
           "mean_of_sentence_scores": {"p5_solution": "scores = [corpus_bleu([[vocab[i] for i in seq[n:]]], [[ref]]) for seq, n, ref in zip(sequences, prompt_lengths, references)]\nreturn sum(scores) / len(scores)"}},
}
for _part, _vs in MORE.items(): WRONG[_part].update(_vs)
