"""ROUGE-1/2/L/Lsum (ftcourse's implementation, equal to rouge_score's) as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# rouge = evaluate.load(metric_path("rouge"))
# rouge.compute(predictions=preds, references=refs)
#
# Returns the mean F1 over examples of each type (0-1); use_aggregator=False returns the per-example F1 lists.
import datasets
import evaluate
from ftcourse.evaluation import ROUGE_TYPES, rouge, rouge_scores

_DESCRIPTION = "ROUGE: n-gram (rougeN), longest-common-subsequence (rougeL) and summary-level LCS (rougeLsum, sentences split on newlines) overlap, as F1."
_KWARGS = """
predictions: list of generated texts.
references: one reference text per prediction.
rouge_types: subset of ("rouge1", "rouge2", "rougeL", "rougeLsum").
use_stemmer: Porter stemming of words of 4+ letters (nltk), as rouge_score's use_stemmer=True.
use_aggregator: True (default) returns mean F1 per type; False returns a list per type.
"""


class Rouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="Lin, 2004", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}))

    def _compute(self, predictions, references, rouge_types=ROUGE_TYPES, use_stemmer=False, use_aggregator=True):
        stemmer = None
        if use_stemmer:
            from nltk.stem import porter
            stemmer = porter.PorterStemmer()
        if use_aggregator: return rouge(predictions, references, rouge_types, stemmer)
        per = [rouge_scores(r, p, rouge_types, stemmer) for p, r in zip(predictions, references)]
        return {k: [s[k].fmeasure for s in per] for k in rouge_types}
