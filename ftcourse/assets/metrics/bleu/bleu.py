"""Corpus BLEU (ftcourse's implementation, equal to sacrebleu's) as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# import evaluate
# from ftcourse.evaluation import metric_path
# bleu = evaluate.load(metric_path("bleu"))
# bleu.compute(predictions=["the cat sat on the mat"], references=[["the cat sat on a mat"]])
#
# Scale: 0-100, like sacrebleu (the hub's "bleu" metric reports 0-1).
import datasets
import evaluate
from ftcourse.evaluation import corpus_bleu

_DESCRIPTION = "Corpus BLEU: clipped n-gram precisions (n = 1..4), geometric mean, brevity penalty; statistics summed over the corpus. Equal to sacrebleu.corpus_bleu."
_KWARGS = """
predictions: list of generated texts.
references: per prediction, one reference string or a list of references.
tokenize: "13a" (default), "intl", "char" or "none".
lowercase: compare lower-cased text (default False).
smooth: "exp" (default), "floor", "add-k" or "none".
Returns: score (0-100), precisions (0-100 per order), bp, sys_len, ref_len.
"""


class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="Papineni et al., 2002; Post, 2018", inputs_description=_KWARGS,
            features=[datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                      datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")})])

    def _compute(self, predictions, references, tokenize="13a", lowercase=False, smooth="exp", smooth_value=None):
        s = corpus_bleu(predictions, references, tokenize=tokenize, lowercase=lowercase, smooth=smooth, smooth_value=smooth_value)
        return {"score": s.score, "precisions": s.precisions, "bp": s.bp, "sys_len": s.sys_len, "ref_len": s.ref_len}
