"""The from-scratch metrics of `ftcourse.evaluation` against the libraries they are proved equal to: corpus BLEU
and chrF++ against sacrebleu, ROUGE-1/2/L/Lsum against rouge_score, precision/recall/F1, average precision and
the confusion matrix against scikit-learn, and the paired bootstrap / approximate randomization tests against
`sacrebleu.significance`.

Same inputs for both contenders (a seeded corpus of WordNet definitions with noisy "system outputs" made
from them, and seeded class labels), the two contenders run alternately many times in one process, medians
reported; every pair's results are checked equal before any time is printed. These machines are noisy: only
the ratio (ours / library; below 1 = ours is faster) is meaningful.

    .venv/bin/python bench/metrics_vs_libraries.py [--sentences 1000] [--repeats 7]
"""
import argparse, os, random, statistics, time, warnings
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
import numpy as np


def timed(fn, repeats: int, other) -> tuple[float, float, object, object]:
    "Median seconds of fn and of other, run alternately `repeats` times; also their last results."
    a, b = [], []
    for _ in range(repeats):
        t = time.perf_counter(); ra = fn(); a.append(time.perf_counter() - t)
        t = time.perf_counter(); rb = other(); b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b), ra, rb


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=1000); ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--labels", type=int, default=20000)
    a = ap.parse_args()
    import sacrebleu
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest
    from rouge_score import rouge_scorer
    from sklearn import metrics as skm
    from ftcourse.core import load_bundled
    from ftcourse import evaluation as E

    rng = random.Random(0)
    refs = [r for r in load_bundled("wordnet_instruct")["train"]["completion"] if len(r.split()) > 3][:a.sentences]
    def noisy(text, p):
        words = text.split()
        return " ".join(w if rng.random() > p else rng.choice(words) for w in words if rng.random() > 0.1) or words[0]
    sys_a, sys_b = [noisy(r, 0.3) for r in refs], [noisy(r, 0.25) for r in refs]
    rows = []

    def compare(name, ours, theirs, same):
        t_ours, t_lib, r_ours, r_lib = timed(ours, a.repeats, theirs)
        assert same(r_ours, r_lib), f"{name}: results differ: {r_ours} vs {r_lib}"
        rows.append((name, t_ours, t_lib))

    close = lambda x, y: abs(x - y) < 1e-9
    compare("corpus BLEU (13a)", lambda: E.corpus_bleu(sys_a, refs).score, lambda: BLEU().corpus_score(sys_a, [refs]).score, close)
    compare("sentence BLEU x200", lambda: [E.sentence_bleu(h, [r]).score for h, r in zip(sys_a[:200], refs)],
            lambda: [BLEU(effective_order=True).sentence_score(h, [r]).score for h, r in zip(sys_a[:200], refs)],
            lambda x, y: max(abs(p - q) for p, q in zip(x, y)) < 1e-9)
    compare("corpus chrF++", lambda: E.corpus_chrf(sys_a, refs, word_order=2), lambda: CHRF(word_order=2).corpus_score(sys_a, [refs]).score, close)
    scorer = rouge_scorer.RougeScorer(list(E.ROUGE_TYPES))
    compare("ROUGE-1/2/L/Lsum", lambda: E.rouge(sys_a, refs),
            lambda: {k: float(np.mean([s[k].fmeasure for s in (scorer.score(r, h) for h, r in zip(sys_a, refs))])) for k in E.ROUGE_TYPES},
            lambda x, y: all(abs(x[k] - y[k]) < 1e-9 for k in x))

    stats_a, stats_b = E.corpus_bleu_stats(sys_a, refs), E.corpus_bleu_stats(sys_b, refs)
    os.environ["SACREBLEU_SEED"] = "12345"
    bleu_refs = BLEU(references=[refs])
    compare("paired bootstrap, 1000 resamples", lambda: E.paired_bootstrap_test(stats_a, stats_b, E.bleu_score_fn(), 1000, null="moses").p_value,
            lambda: PairedTest([("A", sys_a), ("B", sys_b)], {"BLEU": bleu_refs}, None, "bs", 1000)()[1]["BLEU"][1].p_value,
            lambda x, y: abs(x - y) < 0.01)
    compare("approximate randomization, 10000", lambda: E.approximate_randomization_test(stats_a, stats_b, E.bleu_score_fn(), 10000).p_value,
            lambda: PairedTest([("A", sys_a), ("B", sys_b)], {"BLEU": bleu_refs}, None, "ar", 10000)()[1]["BLEU"][1].p_value,
            lambda x, y: abs(x - y) < 0.01)

    g = np.random.default_rng(0)
    t = g.integers(0, 8, a.labels); p = np.where(g.random(a.labels) < 0.7, t, g.integers(0, 8, a.labels)); s = g.random(a.labels)
    compare("precision/recall/F1, macro", lambda: E.precision_recall_f1(t, p, "macro", 8)[:3],
            lambda: skm.precision_recall_fscore_support(t, p, average="macro", labels=range(8), zero_division=0)[:3],
            lambda x, y: np.allclose(x, y, atol=1e-12))
    compare("confusion matrix", lambda: E.confusion_matrix(t, p, 8), lambda: skm.confusion_matrix(t, p, labels=range(8)), lambda x, y: (x == y).all())
    compare("average precision", lambda: E.average_precision(t == 3, s), lambda: skm.average_precision_score(t == 3, s), close)

    print(f"{a.sentences} sentence pairs, {a.labels} labels, medians of {a.repeats} alternating runs\n")
    print(f"{'metric':36s} {'ours (ms)':>10s} {'library (ms)':>13s} {'ours / library':>15s}")
    for name, t_ours, t_lib in rows:
        print(f"{name:36s} {1e3 * t_ours:10.2f} {1e3 * t_lib:13.2f} {t_ours / t_lib:15.2f}")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        main()
