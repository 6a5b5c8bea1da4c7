"""F1 (with precision and recall) of class predictions, as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# f1 = evaluate.load(metric_path("f1"))
# f1.compute(predictions=preds, references=labels, average="macro")
#
# Equal to sklearn.metrics.precision_recall_fscore_support with zero_division=0.
import datasets
import evaluate
from ftcourse.evaluation import precision_recall_f1

_DESCRIPTION = "F1 = 2PR / (P + R) per class, or averaged: macro (classes equal), micro (examples equal), weighted (by support)."
_KWARGS = """
predictions, references: lists of integer class ids.
average: "macro" (default), "micro", "weighted" or None (per class).
num_classes: the number of classes, so that classes absent from both lists still count in macro averages.
Returns f1, precision, recall (floats, or lists per class when average is None).
"""


class F1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}))

    def _compute(self, predictions, references, average="macro", num_classes=None):
        p, r, f, _ = precision_recall_f1(references, predictions, average=average, num_classes=num_classes)
        cast = (lambda x: x.tolist()) if average is None else float
        return {"f1": cast(f), "precision": cast(p), "recall": cast(r)}
