"""Accuracy of class predictions, as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# acc = evaluate.load(metric_path("accuracy"))
# acc.compute(predictions=[0, 1, 1], references=[0, 1, 0])
import datasets
import evaluate
from ftcourse.evaluation import accuracy

_DESCRIPTION = "The fraction of predicted class ids equal to the reference class ids."
_KWARGS = "predictions, references: lists of integer class ids."


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}))

    def _compute(self, predictions, references):
        return {"accuracy": accuracy(references, predictions)}
