"""ftcourse.preference: masked sequence log-probabilities, the DPO loss against its definition and against TRL's
DPOTrainer on the bundled LM, linked groups and leak-free pairs, the DPO loss_fn inside the course's training
loop, the TRL config helper and the alignment memory table."""
import copy, math, random
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from ftcourse import preference as P
from ftcourse.memory import training_memory
from ftcourse.train import TrainConfig, load_causal_lm, train


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    return load_causal_lm("tinylm", "cpu")


def chat(tok, prompt):
    return tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False)


PAIRS = [("Define the word \"violin\" (noun).", "bowed stringed instrument", "a large body of water"),
         ("Give synonyms of the word \"big\" (adjective).", "large", "quick, fast, speedy"),
         ("Use the word \"run\" (verb) in a sentence.", "she runs every morning before work", "the cake was delicious"),
         ("Define the word \"cat\" (noun).", "feline mammal usually having thick soft fur", "x")]


# --- sequence log-probabilities ----------------------------------------------------------------------------

def naive_logprob(logits, labels):
    "The definition, one position at a time: sum of log p(label[t] | logits[t-1]) where label[t] != -100."
    out = []
    for b in range(labels.shape[0]):
        s = 0.0
        for t in range(1, labels.shape[1]):
            if labels[b, t] != -100: s += logits[b, t - 1].log_softmax(-1)[labels[b, t]].item()
        out.append(s)
    return torch.tensor(out, dtype=torch.float64)


def test_sequence_logprob_matches_the_definition():
    g = torch.Generator().manual_seed(1)
    for batch, seq, vocab in [(3, 7, 11), (5, 2, 4), (2, 13, 50)]:
        logits = torch.randn(batch, seq, vocab, generator=g, dtype=torch.float64) * 3
        labels = torch.randint(0, vocab, (batch, seq), generator=g)
        mask = torch.rand(batch, seq, generator=g) < 0.4           # prompt, padding: anywhere
        labels[mask] = -100
        labels[0] = -100                                            # a row with nothing to score
        before = (logits.clone(), labels.clone())
        want = naive_logprob(logits, labels)
        got = P.sequence_logprob(logits, labels)
        assert got.shape == (batch,) and torch.allclose(got.double(), want, atol=1e-5)
        assert got[0] == 0
        counts = (labels[:, 1:] != -100).sum(-1).clamp(min=1)
        assert torch.allclose(P.sequence_logprob(logits, labels, average=True).double(), want / counts, atol=1e-5)
        assert torch.equal(logits, before[0]) and torch.equal(labels, before[1])


def test_pair_collate_masks_the_prompt_and_orders_chosen_first(lm):
    model, tok = lm
    ds = Dataset.from_dict({"prompt": [p for p, _, _ in PAIRS], "chosen": [c for _, c, _ in PAIRS], "rejected": [r for _, _, r in PAIRS],
                            "task": ["t"] * len(PAIRS)})
    enc = P.tokenize_preference(ds, tok, lambda p: chat(tok, p))
    assert set(enc.column_names) == {"chosen_input_ids", "chosen_labels", "rejected_input_ids", "rejected_labels", "task"}
    feats = [dict(enc[i], ref_chosen_logps=-1.0 * i, ref_rejected_logps=-2.0 * i) for i in range(len(enc))]
    batch = P.pair_collate(feats, tok.pad_token_id)
    n = len(PAIRS)
    assert batch["input_ids"].shape[0] == 2 * n and batch["ref_chosen_logps"].tolist() == [-1.0 * i for i in range(n)]
    for i, (prompt, chosen, rejected) in enumerate(PAIRS):
        for row, answer in [(i, chosen), (n + i, rejected)]:
            scored = [t for t in batch["labels"][row].tolist() if t != -100]
            assert tok.decode(scored) == answer + tok.eos_token                     # exactly the answer and EOS
            n_prompt = len(tok(chat(tok, prompt))["input_ids"])
            assert (batch["labels"][row, :n_prompt] == -100).all()
    with pytest.raises(ValueError, match="empty"): P.pair_collate([], tok.pad_token_id)


# --- the DPO loss ----------------------------------------------------------------------------------------

def test_dpo_loss_definition_gradients_and_edges():
    g = torch.Generator().manual_seed(2)
    for beta in (0.1, 0.5, 2.0):
        pc, pr, rc, rr = (-40 * torch.rand(9, generator=g, dtype=torch.float64) for _ in range(4))
        pc.requires_grad_(); pr.requires_grad_(); rc.requires_grad_(); rr.requires_grad_()
        out = P.dpo_loss(pc, pr, rc, rr, beta)
        z = beta * ((pc - rc) - (pr - rr))
        assert torch.allclose(out.losses, torch.log1p(torch.exp(-z)))
        assert torch.allclose(out.chosen_rewards, beta * (pc - rc)) and torch.allclose(out.rejected_rewards, beta * (pr - rr))
        assert not out.chosen_rewards.requires_grad and not out.rejected_rewards.requires_grad
        assert torch.equal(out.accuracies, (out.margins > 0).float())
        out.losses.sum().backward()
        assert rc.grad is None and rr.grad is None                                  # the reference is a constant
        assert torch.allclose(pc.grad, -beta * torch.sigmoid(-z.detach())) and torch.allclose(pr.grad, beta * torch.sigmoid(-z.detach()))
    same = P.dpo_loss(pc.detach(), pr.detach(), pc.detach(), pr.detach())
    assert torch.allclose(same.losses, torch.full_like(same.losses, math.log(2))) and same.accuracies.sum() == 0
    far = P.dpo_loss(torch.tensor([-5000.0, 0.0]), torch.tensor([0.0, -5000.0]), torch.zeros(2), torch.zeros(2), beta=1.0)
    assert torch.isfinite(far.losses).all() and far.losses[0] == 5000 and far.losses[1] == 0
    with pytest.raises(ValueError, match="beta"): P.dpo_loss(pc, pr, rc, rr, beta=0)


def test_equal_to_trl_dpo_trainer(lm):
    "Loss, every logged reward figure, log-probabilities and the gradient of every parameter, on the same batch."
    from trl import DPOConfig, DPOTrainer
    model, tok = lm
    torch.manual_seed(3)
    policy = copy.deepcopy(model)
    with torch.no_grad():
        for p in policy.parameters(): p.add_(0.05 * torch.randn_like(p))     # a policy that differs from the reference
    policy.train()
    ds = Dataset.from_dict({"prompt": [chat(tok, p) for p, _, _ in PAIRS], "chosen": [c for _, c, _ in PAIRS], "rejected": [r for _, _, r in PAIRS]})
    beta = 0.3
    trainer = DPOTrainer(model=copy.deepcopy(policy), ref_model=copy.deepcopy(model), processing_class=tok, train_dataset=ds,
                         args=P.trl_args(DPOConfig, beta=beta, per_device_train_batch_size=len(PAIRS), max_length=128))
    trl_batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(PAIRS))])
    trl_loss = trainer.compute_loss(trainer.model, trl_batch)
    trl = {k: v[-1] for k, v in trainer._metrics["train"].items()}
    enc = P.tokenize_preference(ds, tok)
    batch = P.pair_collate([enc[i] for i in range(len(enc))], tok.pad_token_id)
    assert torch.equal(trl_batch["input_ids"][trl_batch["attention_mask"].bool()], batch["input_ids"][batch["attention_mask"].bool()])
    pc, pr = P.completion_logprobs(policy, batch).chunk(2)
    with torch.no_grad(): rc, rr = P.completion_logprobs(model, batch).chunk(2)
    out = P.dpo_loss(pc, pr, rc, rr, beta)
    ours = {"rewards/chosen": out.chosen_rewards.mean(), "rewards/rejected": out.rejected_rewards.mean(), "rewards/margins": out.margins.mean(),
            "rewards/accuracies": out.accuracies.mean(), "logps/chosen": pc.mean(), "logps/rejected": pr.mean()}
    assert abs(out.losses.mean().item() - trl_loss.item()) < 1e-5
    for k, v in ours.items(): assert abs(v.item() - trl[k]) < 1e-4, k
    assert 0 < out.accuracies.mean() < 1 or out.margins.abs().min() > 1e-3          # non-trivial rewards
    trl_loss.backward(); out.losses.mean().backward()
    for (name, a), b in zip(trainer.model.named_parameters(), policy.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def test_dpo_loss_fn_in_the_training_loop(lm):
    model, tok = lm
    ds = Dataset.from_dict({"prompt": [chat(tok, p) for p, _, _ in PAIRS], "chosen": [c for _, c, _ in PAIRS], "rejected": [r for _, _, r in PAIRS]})
    data = P.tokenize_preference(ds, tok)
    collate = lambda f: P.pair_collate(f, tok.pad_token_id)
    ref = copy.deepcopy(model)
    with_ref = P.add_reference_logprobs(data, ref, tok.pad_token_id, batch_size=3)
    chosen, rejected = P.pair_logprobs(ref, data, tok.pad_token_id)
    assert torch.allclose(torch.tensor(with_ref["ref_chosen_logps"]), chosen) and torch.allclose(torch.tensor(with_ref["ref_rejected_logps"]), rejected)
    batch = collate([with_ref[i] for i in range(len(with_ref))])
    policy = copy.deepcopy(model).eval()
    on_the_fly, precomputed = P.DPOLoss(ref, beta=0.1)(policy, batch), P.DPOLoss(beta=0.1)(policy, batch)
    assert abs(on_the_fly.item() - math.log(2)) < 1e-5 and abs(precomputed.item() - math.log(2)) < 1e-5
    assert not any(p.requires_grad for p in ref.parameters())
    with pytest.raises(ValueError, match="no reference"): P.DPOLoss()(policy, collate([data[i] for i in range(len(data))]))
    with pytest.raises(ValueError, match="model being trained"): P.DPOLoss(policy)(policy, batch)
    policy.train().requires_grad_(True)
    run = train(policy, with_ref, TrainConfig(epochs=8, batch_size=4, lr=1e-3, warmup=0, progress=False, seed=0), collate_fn=collate, loss_fn=P.DPOLoss(beta=0.1))
    pc, pr = P.pair_logprobs(policy, data, tok.pad_token_id)
    out = P.dpo_loss(pc, pr, chosen, rejected, 0.1)
    assert run["steps"] == 8 and out.losses.mean() < math.log(2) - 0.05 and out.accuracies.mean() == 1


# --- pairs without leakage ---------------------------------------------------------------------------------

def reference_groups(rows, columns, casefold=True):
    "Breadth-first search over the row graph: the specification of linked groups, written differently."
    key = lambda c, v: (c, v.casefold() if casefold and isinstance(v, str) else v)
    by_value = {}
    for i, r in enumerate(rows):
        for c in columns:
            if r[c] is not None: by_value.setdefault(key(c, r[c]), []).append(i)
    group, out = {}, [None] * len(rows)
    for i in range(len(rows)):
        if out[i] is not None: continue
        g, stack = len(group), [i]
        group[g] = True
        while stack:
            j = stack.pop()
            if out[j] is not None: continue
            out[j] = g
            for c in columns:
                if rows[j][c] is not None: stack.extend(k for k in by_value[key(c, rows[j][c])] if out[k] is None)
    return out


def test_linked_groups_against_a_search():
    rng = random.Random(4)
    for n, n_words, n_senses in [(30, 12, 25), (200, 150, 180), (60, 5, 60), (1, 1, 1)]:
        rows = [{"lemma": rng.choice(["w", "W"]) + str(rng.randrange(n_words)) if rng.random() > 0.05 else None,
                 "synset": f"s{rng.randrange(n_senses)}"} for _ in range(n)]
        before = copy.deepcopy(rows)
        got = P.linked_groups(rows)
        assert got == reference_groups(rows, ("lemma", "synset")) and rows == before
        assert P.linked_groups(Dataset.from_list(rows)) == got
        assert P.linked_groups(rows, casefold=False) == reference_groups(rows, ("lemma", "synset"), casefold=False)
    assert P.linked_groups([]) == []
    with pytest.raises(ValueError, match="sense"): P.linked_groups([{"lemma": "a"}], columns=("lemma", "sense"))


def test_preference_pairs_follow_the_recipe():
    rng = random.Random(5)
    rows = [{"prompt": f"p{i}", "completion": f"answer {i} " + "x" * rng.randrange(30), "task": rng.choice("ab"), "pos": rng.choice("nv"),
             "group": rng.randrange(25)} for i in range(300)]
    rows.append({"prompt": "lonely", "completion": "only one of its kind", "task": "c", "pos": "n", "group": 99})    # no candidate
    ds = Dataset.from_list(rows)
    state = random.getstate()
    pairs = P.preference_pairs(ds, match=("task", "pos"), seed=3)
    assert random.getstate() == state                                             # a private generator
    by_completion = {r["completion"]: r for r in rows}
    assert len(pairs) == len(rows) - 1 and "lonely" not in pairs["prompt"]
    for p in pairs:
        own, other = next(r for r in rows if r["prompt"] == p["prompt"]), by_completion[p["rejected"]]
        assert p["chosen"] == own["completion"] and (other["task"], other["pos"]) == (own["task"], own["pos"])
        assert other["group"] != own["group"] and p["rejected"] != p["chosen"] and p["group"] == own["group"]
    assert P.preference_pairs(ds, match=("task", "pos"), seed=3).to_list() == pairs.to_list()
    assert P.preference_pairs(ds, match=("task", "pos"), seed=4).to_list() != pairs.to_list()
    gap = lambda d: sum(abs(len(a) - len(b)) for a, b in zip(d["chosen"], d["rejected"]))
    assert gap(pairs) < gap(P.preference_pairs(ds, match=("task", "pos"), candidates=1, seed=3))
    with pytest.raises(ValueError, match="pos"): P.preference_pairs(ds.remove_columns("pos"), match=("task", "pos"))


def test_pair_problems_finds_what_was_planted():
    pairs = Dataset.from_list([{"prompt": "a", "chosen": "x", "rejected": "y"}, {"prompt": "a", "chosen": "y", "rejected": "z"},
                               {"prompt": "b", "chosen": "Same  text", "rejected": "same text"}, {"prompt": "c", "chosen": " ", "rejected": "w"},
                               {"prompt": "d", "chosen": "u", "rejected": "v"}])
    assert P.pair_problems(pairs) == {"empty": [3], "same_text": [2], "rejected_is_chosen_elsewhere": [0]}


# --- configuration and memory --------------------------------------------------------------------------

def test_trl_args_run_on_this_machine():
    from trl import DPOConfig, KTOConfig
    args = P.trl_args(DPOConfig, beta=0.2)
    assert args.bf16 is (torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    assert args.activation_checkpointing is False and args.gradient_checkpointing is False and args.beta == 0.2
    assert P.trl_args(KTOConfig, learning_rate=3e-4, seed=7).learning_rate == 3e-4 and P.trl_args(KTOConfig, seed=7).seed == 7


def test_rlhf_memory_table():
    kw = dict(batch_size=2, seq_len=64)
    ppo, dpo = P.rlhf_memory("tinylm", "ppo", **kw), P.rlhf_memory("tinylm", "dpo", **kw)
    assert set(ppo) == {"policy", "reference", "value", "reward"} and set(dpo) == {"policy", "reference"}
    full = training_memory("tinylm", "full", task="causal_lm", **kw)
    assert ppo["policy"] == dpo["policy"] == full and ppo["reference"] == dpo["reference"]
    assert ppo["reference"].weights == full.weights and ppo["reference"].peak == full.weights and ppo["reward"].gradients == 0
    assert ppo["value"] == training_memory("tinylm", "full", task="classification", num_labels=1, **kw)   # a scalar head instead of the vocabulary
    lora = P.rlhf_memory("tinylm", "ppo", "lora", **kw)
    assert lora["reference"].peak == 0 and lora["policy"].trainable < full.trainable / 10
    with pytest.raises(ValueError, match="algorithm"): P.rlhf_memory("tinylm", "rlhf")
