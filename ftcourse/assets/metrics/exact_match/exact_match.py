"""Exact match after normalisation, as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# em = evaluate.load(metric_path("exact_match"))
# em.compute(predictions=preds, references=refs, ignore_case=True, ignore_punctuation=True)
#
# Returns exact_match in 0-1.
import datasets
import evaluate
from ftcourse.evaluation import exact_match

_DESCRIPTION = "The fraction of predictions equal to their reference after the chosen normalisation."
_KWARGS = """
predictions, references: lists of strings.
ignore_case (False), ignore_punctuation (False), ignore_articles (False), regexes_to_ignore (()).
"""


class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}))

    def _compute(self, predictions, references, ignore_case=False, ignore_punctuation=False, ignore_articles=False, regexes_to_ignore=()):
        hits = exact_match(predictions, references, ignore_case=ignore_case, ignore_punctuation=ignore_punctuation,
                           ignore_articles=ignore_articles, regexes_to_ignore=regexes_to_ignore)
        return {"exact_match": float(hits.mean())}
