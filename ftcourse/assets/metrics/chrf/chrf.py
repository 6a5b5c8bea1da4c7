"""Corpus chrF and chrF++ (ftcourse's implementation, equal to sacrebleu's) as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# chrf = evaluate.load(metric_path("chrf"))
# chrf.compute(predictions=preds, references=refs, word_order=2)   # chrF++
#
# Scale: 0-100, like sacrebleu.
import datasets
import evaluate
from ftcourse.evaluation import corpus_chrf

_DESCRIPTION = "chrF: F-beta (beta = 2) of character n-gram precision and recall (n = 1..6), plus word n-grams for chrF++ (word_order=2)."
_KWARGS = """
predictions: list of generated texts.
references: per prediction, one reference string or a list of references (the best-matching one counts).
char_order (6), word_order (0; 2 = chrF++), beta (2), lowercase (False), whitespace (False), eps_smoothing (False).
Returns: score (0-100), char_order, word_order, beta.
"""


class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="Popovic, 2015; Popovic, 2017", inputs_description=_KWARGS,
            features=[datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                      datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")})])

    def _compute(self, predictions, references, char_order=6, word_order=0, beta=2, lowercase=False, whitespace=False, eps_smoothing=False):
        score = corpus_chrf(predictions, references, char_order, word_order, beta, lowercase, whitespace, eps_smoothing)
        return {"score": score, "char_order": char_order, "word_order": word_order, "beta": beta}
