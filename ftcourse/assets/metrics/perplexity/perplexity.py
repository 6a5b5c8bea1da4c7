"""Perplexity of a causal LM on texts (every token scored, given a conditioning token), as an `evaluate` metric that loads offline."""
# Usage (no network needed):
# ppl = evaluate.load(metric_path("perplexity"))
# ppl.compute(predictions=texts, model_id="tinylm")
#
# Returns perplexity (token-weighted over all texts: exp(total NLL / total tokens)) and perplexities (one per text).
# The hub's "perplexity" metric reports mean_perplexity, the mean of per-text perplexities, which weighs a
# 3-token text as much as a 300-token one; it is returned here too, under that name, for comparison.
import datasets
import evaluate
from ftcourse.evaluation import document_features, score_examples

_DESCRIPTION = "exp of the mean next-token negative log-likelihood, padding masked."
_KWARGS = """
predictions: list of texts.
model_id: a bundled model name ("tinylm"), a local directory or a hub id.
batch_size (16), condition_on ("eos", "bos" or None: the token before each text), device ("auto").
"""


class Perplexity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("string")}))

    def _compute(self, predictions, model_id, batch_size=16, condition_on="eos", device="auto"):
        import math
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from ftcourse.core import get_device, model_path
        path = model_path(model_id)
        model = AutoModelForCausalLM.from_pretrained(path).to(get_device(device))
        tokenizer = AutoTokenizer.from_pretrained(path)
        if tokenizer.pad_token_id is None: tokenizer.pad_token = tokenizer.eos_token
        res = score_examples(model, document_features(tokenizer, predictions, condition_on), tokenizer.pad_token_id, batch_size)
        per = [math.exp(n / t) for n, t in zip(res.nll, res.tokens)]
        return {"perplexity": res.perplexity, "perplexities": per, "mean_perplexity": sum(per) / len(per)}
