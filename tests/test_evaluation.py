"""ftcourse.evaluation against its library twins on random inputs, the shipped `evaluate` modules with the
network unreachable, perplexity invariances on the bundled LM, paired tests against sacrebleu, and the
coverage of bootstrap intervals measured by simulation."""
import json, math, os, random, shutil, subprocess, sys, warnings
from pathlib import Path
import numpy as np
import pytest
import torch
from ftcourse import evaluation as E
from ftcourse.data import next_token_loss

sacrebleu = pytest.importorskip("sacrebleu")
from sacrebleu.metrics import BLEU, CHRF
from rouge_score import rouge_scorer
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.preprocessing import label_binarize

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ("the a cat dog sat on mat , . ( ) 3.14 1,000 - don't it's New-York U.S. 42 & < > \" ' ; : ! ? "
         "café naïve € — … 10-20 İstanbul ÀB x").split()


def rand_text(rng, max_words=15):
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, max_words))) + rng.choice(["", ".", " .", "!", " "])


def corpus(seed, n=120):
    rng = random.Random(seed)
    hyps = [rand_text(rng) for _ in range(n)]
    refs = [[rand_text(rng) for _ in range(rng.randint(1, 3))] for _ in range(n)]
    streams = [[r[i] if i < len(r) else None for r in refs] for i in range(3)]
    return hyps, refs, streams


# --- generation metrics ---------------------------------------------------------------------------

@pytest.mark.parametrize("tokenize", ["13a", "intl", "char", "none"])
def test_bleu_equals_sacrebleu_on_random_corpora(tokenize):
    hyps, refs, streams = corpus(1)
    for smooth in E.SMOOTHING:
        for lowercase in (False, True):
            ours = E.corpus_bleu(hyps, refs, tokenize, lowercase, smooth)
            theirs = BLEU(tokenize=tokenize, smooth_method=smooth, lowercase=lowercase).corpus_score(hyps, streams)
            assert abs(ours.score - theirs.score) < 1e-9 and (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
            assert np.allclose(ours.precisions, theirs.precisions, atol=1e-9)
            m = BLEU(tokenize=tokenize, smooth_method=smooth, lowercase=lowercase, effective_order=True)
            for h, r in zip(hyps[:30], refs):
                assert abs(E.sentence_bleu(h, r, tokenize, lowercase, smooth).score - m.sentence_score(h, r).score) < 1e-9


def test_bleu_published_values_and_parts():
    refs = [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
            ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]]
    sys_ = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
    per = [list(r) for r in zip(*refs)]
    for tok, value in [("13a", 48.530827), ("none", 49.1919566), ("intl", 43.91623493)]:
        assert abs(E.corpus_bleu(sys_, per, tokenize=tok).score - value) < 1e-6
    assert E.corpus_bleu(["", "", ""], per).score == 0.0
    # modified precision clips by the reference count; BP = 1 if c >= r else exp(1 - r/c)
    st = E.bleu_stats("the the the the the the the", ["the cat is on the mat"], tokenize="none")
    assert st[2] == 2 and st[6] == 7
    assert E.brevity_penalty(7, 6) == 1.0 and E.brevity_penalty(6, 6) == 1.0
    assert abs(E.brevity_penalty(5, 6) - math.exp(1 - 6 / 5)) < 1e-15 and E.brevity_penalty(0, 6) == 0.0
    # the reference length closest to the hypothesis; ties go to the shorter
    assert E.bleu_stats("a b c d", ["a b", "a b c d e f"], tokenize="none")[1] == 2
    # sentence BLEU without smoothing is 0 as soon as one order has no match
    assert E.sentence_bleu("the cat sat on a mat", ["a cat sat on the mat"], smooth="none", effective_order=False).score == 0
    assert E.sentence_bleu("the cat sat on a mat", ["a cat sat on the mat"]).score > 0


def test_bleu_from_stats_is_vectorised_like_the_scalar_path():
    hyps, refs, _ = corpus(2, 60)
    stats = E.corpus_bleu_stats(hyps, refs)
    idx = np.random.default_rng(0).integers(0, len(stats), (20, len(stats)))
    batched = E.bleu_from_stats(stats[idx].sum(1))["score"]
    one_by_one = [E.bleu_from_stats(stats[i].sum(0))["score"] for i in idx]
    assert np.allclose(batched, one_by_one, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="smooth"): E.bleu_from_stats(stats.sum(0), smooth="laplace")
    with pytest.raises(ValueError, match="tokenizer"): E.bleu_stats("a", ["a"], tokenize="moses")
    with pytest.raises(ValueError, match="reference"): E.corpus_bleu(["a", "b"], ["a"])


@pytest.mark.parametrize("word_order", [0, 2])
def test_chrf_equals_sacrebleu(word_order):
    hyps, refs, streams = corpus(3)
    for eps in (False, True):
        for ws in (False, True):
            for lc in (False, True):
                ours = E.corpus_chrf(hyps, refs, word_order=word_order, eps_smoothing=eps, whitespace=ws, lowercase=lc)
                theirs = CHRF(word_order=word_order, eps_smoothing=eps, whitespace=ws, lowercase=lc).corpus_score(hyps, streams).score
                assert abs(ours - theirs) < 1e-9
    # published: sacrebleu's README corpus (chrF2 = 59.73) and its beta=3 test values
    refs_r = [["The dog bit the man.", "The dog had bit the man."], ["It was not unexpected.", "No one was surprised."],
              ["The man bit him first.", "The man had bitten the dog."]]
    assert round(E.corpus_chrf(["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."], refs_r), 2) == 59.73
    assert abs(E.corpus_chrf(["aa"], ["ab"], beta=3, eps_smoothing=True) - 8.3333) < 1e-4


def test_rouge_equals_rouge_score():
    rng = random.Random(4)
    types = list(E.ROUGE_TYPES)
    scorer = rouge_scorer.RougeScorer(types)
    for _ in range(250):
        t, p = ("\n".join(rand_text(rng) for _ in range(rng.randint(1, 3))) for _ in range(2))
        a, b = scorer.score(t, p), E.rouge_scores(t, p)
        for k in types:
            assert abs(a[k].precision - b[k].precision) < 1e-12 and abs(a[k].recall - b[k].recall) < 1e-12 and abs(a[k].fmeasure - b[k].fmeasure) < 1e-12
    from nltk.stem import porter
    stem = rouge_scorer.RougeScorer(types, use_stemmer=True)
    t, p = "The runners were running quickly towards cities", "a runner runs quickly to the city"
    a, b = stem.score(t, p), E.rouge_scores(t, p, stemmer=porter.PorterStemmer())
    assert all(abs(a[k].fmeasure - b[k].fmeasure) < 1e-12 for k in types)
    s = E.rouge_scores("testing one two", "testing", ("rouge1",))["rouge1"]                  # rouge_score's published case
    assert (s.precision, s.recall, s.fmeasure) == (1, 1 / 3, 0.5)
    with pytest.raises(ValueError, match="ROUGE type"): E.rouge_scores("a", "a", ("rougeX",))


def test_exact_match():
    em = E.exact_match(["Paris.", "the Louvre", "42", "x"], ["paris", "Louvre", "forty-two", ["y", "X"]], ignore_articles=True)
    assert em.tolist() == [1.0, 1.0, 0.0, 1.0]
    assert E.exact_match(["Paris."], ["paris"], ignore_case=False, ignore_punctuation=False).tolist() == [0.0]


# --- classification --------------------------------------------------------------------------------

def test_classification_metrics_equal_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(120):
        k, n = int(rng.integers(2, 8)), int(rng.integers(1, 60))
        t = rng.integers(0, k, n); p = np.where(rng.random(n) < 0.5, t, rng.integers(0, k, n))
        t0, p0 = t.copy(), p.copy()
        assert (E.confusion_matrix(t, p, k) == skm.confusion_matrix(t, p, labels=range(k))).all()
        for avg in (None, "macro", "micro", "weighted"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = skm.precision_recall_fscore_support(t, p, labels=list(range(k)), average=avg, zero_division=0)
            ours = E.precision_recall_f1(t, p, avg, k)
            for a, b in zip(ours[:3], ref[:3]): assert np.allclose(a, b, rtol=0, atol=1e-12)
        assert E.accuracy(t, p) == skm.accuracy_score(t, p)
        assert (t == t0).all() and (p == p0).all()                                      # inputs left unchanged
    assert round(E.precision_recall_f1([1] * 9 + [0] * 11, [1] * 9 + [1] + [0] * 10, None, 2)[2][1], 3) == 0.947
    with pytest.raises(ValueError, match="integer"): E.confusion_matrix([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="num_classes"): E.confusion_matrix([0, 3], [0, 1], num_classes=2)


def test_pr_auc_and_calibration_equal_scikit_learn():
    rng = np.random.default_rng(1)
    for _ in range(100):
        n = int(rng.integers(2, 90)); y = rng.integers(0, 2, n); y[0] = 1
        s = np.round(rng.random(n), int(rng.integers(1, 3)))                              # ties in the scores
        assert abs(E.average_precision(y, s) - skm.average_precision_score(y, s)) < 1e-12
        k = int(rng.integers(3, 7)); t = np.r_[np.arange(k), rng.integers(0, k, n)]
        P = rng.dirichlet(np.ones(k), len(t))
        for avg in ("macro", "weighted", "micro"):
            assert abs(E.pr_auc(t, P, avg) - skm.average_precision_score(label_binarize(t, classes=range(k)), P, average=avg)) < 1e-12
        c = rng.random(n); c[:2] = [0.0, 1.0]; o = rng.integers(0, 2, n); nb = int(rng.integers(3, 20))
        conf, acc, count = E.calibration_bins(c, o, nb)
        pt, pp = calibration_curve(o, c, n_bins=nb)
        assert np.allclose(acc[count > 0], pt, atol=1e-12) and np.allclose(conf[count > 0], pp, atol=1e-12)
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]]); y = np.array([0, 1, 1, 1])
    assert abs(E.expected_calibration_error(P, y) - (0.1 + 0.6 + 0.2 + 0.3) / 4) < 1e-12
    with pytest.raises(ValueError, match="no example"): E.pr_auc([0, 0], np.array([[0.6, 0.4], [0.7, 0.3]]))


# --- significance and intervals --------------------------------------------------------------------

def test_paired_tests_equal_sacrebleu(monkeypatch):
    from sacrebleu.significance import PairedTest
    rng = random.Random(5)
    words = "the a cat dog sat on mat in house red blue big small ran jumped over under".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) for _ in range(120)]
    def noisy(s, p): return " ".join(w if rng.random() > p else rng.choice(words) for w in s.split() if rng.random() > 0.1)
    a, b = [noisy(s, 0.3) for s in refs], [noisy(s, 0.22) for s in refs]
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    sa, sb = E.corpus_bleu_stats(a, refs), E.corpus_bleu_stats(b, refs)
    for test, n in (("bs", 1000), ("ar", 2000)):
        theirs = PairedTest([("A", a), ("B", b)], {"BLEU": BLEU(references=[refs])}, references=None, test_type=test, n_samples=n)()[1]["BLEU"][1]
        ours = (E.paired_bootstrap_test(sa, sb, E.bleu_score_fn(), n, null="moses") if test == "bs"
                else E.approximate_randomization_test(sa, sb, E.bleu_score_fn(), n))
        assert abs(ours.p_value - theirs.p_value) < 0.01 and abs(ours.score_b - theirs.score) < 1e-9


def test_paired_tests_reject_a_real_difference_and_keep_alpha_under_the_null():
    rng = np.random.default_rng(0)
    a, b = (rng.random(400) < 0.70).astype(float), (rng.random(400) < 0.85).astype(float)
    assert E.paired_bootstrap_test(a, b).p_value < 0.01 and E.approximate_randomization_test(a, b, n_samples=2000).p_value < 0.01
    rejections = 0
    for i in range(200):                                                                 # the null: same accuracy
        x, y = (rng.random(150) < 0.7).astype(float), (rng.random(150) < 0.7).astype(float)
        rejections += E.paired_bootstrap_test(x, y, n_samples=500, seed=i).p_value < 0.05
    assert rejections / 200 < 0.05 + 3 * math.sqrt(0.05 * 0.95 / 200)
    with pytest.raises(ValueError, match="same examples"): E.paired_bootstrap_test(a, b[:10])


def test_bootstrap_interval_coverage_by_simulation():
    "A 95% interval (ftcourse.core.bootstrap_ci) covers the true accuracy in 93-97% of 1000 simulated test sets."
    from ftcourse.core import bootstrap_ci
    g = np.random.default_rng(0)
    hits = [lo <= 0.8 <= hi for lo, hi in (bootstrap_ci((g.random(150) < 0.8).astype(float), n_boot=500, seed=i)[1:] for i in range(1000))]
    assert 0.93 <= np.mean(hits) <= 0.97


def test_corpus_ci_brackets_the_corpus_score():
    hyps, refs, _ = corpus(6, 80)
    st = E.corpus_bleu_stats(hyps, [r[0] for r in refs])
    est, lo, hi = E.corpus_ci(st, E.bleu_score_fn(), n_boot=300)
    assert est == pytest.approx(E.corpus_bleu(hyps, [r[0] for r in refs]).score, abs=1e-9) and lo <= est <= hi


# --- perplexity on the bundled LM ------------------------------------------------------------------

@pytest.fixture(scope="module")
def tinylm():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from ftcourse.core import model_path
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(model_path("tinylm")).eval(), AutoTokenizer.from_pretrained(model_path("tinylm"))


def test_perplexity_ignores_batch_size_and_padding_side(tinylm):
    from ftcourse.core import load_bundled
    model, tok = tinylm
    pairs = load_bundled("wordnet_instruct")["test"].select(range(24))
    chat = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False) for p in pairs["prompt"]]
    feats = E.completion_features(tok, chat, pairs["completion"])
    before = json.dumps(feats)
    runs = [E.score_examples(model, feats, tok.pad_token_id, bs, side) for bs in (1, 4, 16) for side in ("right", "left")]
    ref = runs[0].perplexity
    assert all(abs(r.perplexity / ref - 1) < 1e-5 and (r.tokens == runs[0].tokens).all() for r in runs)
    assert runs[0].tokens.sum() == sum(sum(l != -100 for l in f["labels"][1:]) for f in feats)   # answer tokens (+ EOS) only
    assert json.dumps(feats) == before and not model.training


def test_rolling_nll_equals_direct_computation(tinylm):
    model, tok = tinylm
    ids = [tok.eos_token_id] + tok("a small domesticated carnivorous mammal with soft fur; a feline; the cat sat on the mat " * 6,
                                   add_special_tokens=False)["input_ids"]
    ids = ids[:150]
    direct = E.score_examples(model, [{"input_ids": ids, "labels": [-100] + ids[1:]}], tok.pad_token_id)
    s, n = E.rolling_nll(model, ids, max_length=256, stride=64)                           # fits: one window
    assert n == len(ids) - 1 == direct.tokens[0] and abs(s - direct.nll[0]) < 1e-3
    s1, n1 = E.rolling_nll(model, ids, max_length=24, stride=1)                           # each token with exactly 23 before it
    x = torch.tensor(ids)
    with torch.no_grad():
        first = next_token_loss(model(input_ids=x[None, :24]).logits, x[None, :24], reduction="sum").item()
        w = torch.stack([x[p - 23:p + 1] for p in range(24, len(ids))])
        rest = torch.nn.functional.cross_entropy(model(input_ids=w).logits[:, -2], w[:, -1], reduction="sum").item()
    assert n1 == len(ids) - 1 and abs(s1 - first - rest) / s1 < 1e-5
    for stride in (7, 23):
        assert E.rolling_nll(model, ids, 24, stride)[1] == len(ids) - 1                   # every token scored once
    with pytest.raises(ValueError, match="stride"): E.rolling_nll(model, ids, 24, 24)


def test_document_conditioning_and_units(tinylm):
    model, tok = tinylm
    docs = ["dog (noun): a member of the genus Canis", "run (verb): move fast by using one's feet"]
    plain, cond = E.document_features(tok, docs, condition_on=None), E.document_features(tok, docs)
    assert [len(f["input_ids"]) for f in cond] == [len(f["input_ids"]) + 1 for f in plain] and all(f["input_ids"][0] == tok.eos_token_id for f in cond)
    r = E.score_examples(model, cond, tok.pad_token_id)
    assert r.tokens.sum() == sum(len(f["input_ids"]) for f in plain)
    nbytes = sum(len(d.encode()) for d in docs)
    assert E.bits_per_byte(r.nll.sum(), nbytes) == pytest.approx(r.nll.sum() / math.log(2) / nbytes)
    assert E.word_perplexity(r.nll.sum(), 14) == pytest.approx(math.exp(r.nll.sum() / 14))
    with pytest.raises(ValueError, match="rolling_nll"): E.document_features(tok, docs, max_length=3)


# --- probes and the model card ---------------------------------------------------------------------

def test_probes():
    assert E.swap_words("The King gave his sister a ring.") == ("The Queen gave her brother a ring.", 3)
    g = random.Random(0)
    assert E.char_noise("hello world", 0.0, g) == "hello world" and E.char_noise("hello world", 1.0, g) != "hello world"
    texts = ["a man who sells fish", "a tree", "she is a woman of note"]
    flips = E.counterfactual_flips(lambda ts: [("woman" in t) + 0 for t in ts], texts)
    assert flips["n"] == 2 and flips["flip_rate"] == 1.0
    r = E.robustness(lambda ts: [len(t) > 0 for t in ts], texts, [True] * 3, lambda t, g: t.upper())
    assert r["drop"] == 0 and r["clean"] == r["perturbed"] == 1.0


def test_model_card_round_trip(tmp_path):
    from huggingface_hub import ModelCard
    results = [E.MetricResult("answer perplexity", "perplexity", 12.5, (11.0, 14.2), "wordnet_instruct", n=100),
               E.MetricResult("BLEU", "bleu", 7.25, (5.0, 9.0), "wordnet_instruct", n=100)]
    E.write_model_card(tmp_path, "m", "tinylm", results, ["wordnet_instruct"], "teaching", "small", {"steps": 3})
    card = ModelCard.load(tmp_path / "README.md")
    assert [r.metric_value for r in card.data.eval_results] == [12.5, 7.25]
    assert "[11, 14.2]" in card.text and "WordNet 3.0" in card.text and "sha256" in card.text
    with pytest.raises(ValueError, match="outside its interval"):
        E.write_model_card(tmp_path, "m", "tinylm", [E.MetricResult("x", "x", 3.0, (1.0, 2.0), "wordnet_lm")], ["wordnet_lm"], "", "", {})


# --- the shipped evaluate modules, with the network unreachable -------------------------------------

def _no_network_prefix() -> list[str] | None:
    for cmd in (["unshare", "-n"], ["bwrap", "--dev-bind", "/", "/", "--unshare-net"]):
        if shutil.which(cmd[0]) and subprocess.run(cmd + ["true"], capture_output=True).returncode == 0: return cmd
    return None


CHILD = r'''
import json, socket, sys, evaluate, numpy as np
from ftcourse import evaluation as E
interfaces = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
try: socket.create_connection(("pypi.org", 443), timeout=3); reachable = True
except OSError: reachable = False
preds, refs = ["the cat sat on the mat", "a dog ran", "hello there"], ["the cat sat on a mat", "the dog ran off", "hello there"]
load = lambda n: evaluate.load(E.metric_path(n))
out = {"interfaces": interfaces, "reachable": reachable,
       "bleu": load("bleu").compute(predictions=preds, references=[[r] for r in refs])["score"],
       "chrf": load("chrf").compute(predictions=preds, references=refs, word_order=2)["score"],
       "rouge": load("rouge").compute(predictions=preds, references=refs),
       "exact_match": load("exact_match").compute(predictions=preds, references=refs)["exact_match"],
       "accuracy": load("accuracy").compute(predictions=[0, 1, 2, 2], references=[0, 1, 1, 2])["accuracy"],
       "f1": load("f1").compute(predictions=[0, 1, 2, 2], references=[0, 1, 1, 2], average="macro")["f1"],
       "perplexity": load("perplexity").compute(predictions=refs, model_id="tinylm", device="cpu")["perplexity"]}
print(json.dumps(out))
'''


def test_evaluate_modules_load_and_agree_with_no_network(tmp_path, tinylm):
    prefix = _no_network_prefix()
    if prefix is None: pytest.skip("neither `unshare -n` nor `bwrap --unshare-net` can run here")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}    # no offline switches: the network is simply gone
    env |= {"HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    res = subprocess.run(prefix + [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["interfaces"] == ["lo"] and not out["reachable"]                                  # no interface but loopback: no network at all
    preds, refs = ["the cat sat on the mat", "a dog ran", "hello there"], ["the cat sat on a mat", "the dog ran off", "hello there"]
    assert out["bleu"] == E.corpus_bleu(preds, refs).score
    assert out["chrf"] == E.corpus_chrf(preds, refs, word_order=2)
    assert out["rouge"] == E.rouge(preds, refs)
    assert out["exact_match"] == 1 / 3 and out["accuracy"] == 0.75
    assert out["f1"] == E.precision_recall_f1([0, 1, 1, 2], [0, 1, 2, 2], "macro")[2]
    model, tok = tinylm
    assert out["perplexity"] == pytest.approx(E.score_examples(model, E.document_features(tok, refs), tok.pad_token_id).perplexity, rel=1e-6)


def test_metric_modules_are_package_data():
    import tomllib
    from fnmatch import fnmatch
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ftcourse"]
    for name in E.METRICS:
        script = Path(E.metric_path(name)) / f"{name}.py"
        assert script.exists()
        rel = script.relative_to(ROOT / "ftcourse").as_posix()
        assert any(fnmatch(rel, p) for p in patterns), f"{rel} is not matched by package-data {patterns}"
        assert not any(line.startswith(("from .", "import .")) for line in script.read_text().splitlines()), "a relative import makes evaluate download"
    with pytest.raises(ValueError, match="shipped"): E.metric_path("bertscore")
