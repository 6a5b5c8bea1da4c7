"""A small, complete training run for tests/test_train.py to start, kill with SIGKILL and resume.

    python tests/train_child.py OUT_DIR RESULT [--slow SECONDS] [--hang-at STEP --hang-in file|pointer]

It trains a tiny classifier with dropout (so the restored RNG state matters) under fp16 autocast with a
GradScaler (so the scaler's state matters), gradient accumulation with a partial last group, a cosine
schedule with warm-up, evaluation and checkpoints, and writes the final weights to RESULT.
--slow sleeps in every micro-batch so a test can kill the run between checkpoints; --hang-at makes the
checkpoint of that step stop half-way (in the middle of writing a file, or after its folder is renamed
but before the `latest` pointer moves) and print HANG, so a test can kill it mid-write.
"""
import argparse, io, os, sys, time
import torch
from torch import nn
import torch.nn.functional as F

torch.set_num_threads(1)
from ftcourse import train as T


class TinyClassifier(nn.Module):
    def __init__(self, vocab: int = 50, dim: int = 16, classes: int = 3):
        super().__init__()
        self.emb, self.hidden, self.out = nn.Embedding(vocab, dim), nn.Linear(dim, 32), nn.Linear(32, classes)
        self.drop = nn.Dropout(0.3)

    def forward(self, input_ids, labels=None):
        logits = self.out(self.drop(torch.relu(self.hidden(self.emb(input_ids).mean(1)))))
        return {"logits": logits, "loss": F.cross_entropy(logits.float(), labels)}


def examples(n: int, seed: int) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 50, (n, 8), generator=g)
    return [{"input_ids": i, "labels": i[0] % 3} for i in ids]


def config(out_dir: str) -> T.TrainConfig:
    # 38 examples / batch 4 = 10 micro-batches per epoch = groups [3, 3, 3, 1]: 4 steps an epoch, 20 in all
    return T.TrainConfig(epochs=5, batch_size=4, grad_accum=3, lr=2e-2, warmup=4, schedule="cosine", precision="fp16",
                         eval_every=3, save_every=2, load_best=False, out_dir=out_dir, tensorboard=True, progress=False, seed=0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir"); ap.add_argument("result")
    ap.add_argument("--slow", type=float, default=0.0)
    ap.add_argument("--hang-at", type=int); ap.add_argument("--hang-in", choices=["file", "pointer"])
    a = ap.parse_args()
    if a.hang_at is not None:
        target = f"step-{a.hang_at:08d}"
        def hang(): print("HANG", flush=True); time.sleep(3600)
        if a.hang_in == "file":
            real_save = torch.save
            def half_save(obj, f, *args, **kw):
                if target not in str(f): return real_save(obj, f, *args, **kw)
                buf = io.BytesIO(); real_save(obj, buf, *args, **kw)
                with open(f, "wb") as fh: fh.write(buf.getvalue()[:len(buf.getvalue()) // 2]); fh.flush(); os.fsync(fh.fileno())
                hang()
            torch.save = half_save
        else:
            real_pointer = T._write_pointer
            T._write_pointer = lambda root, name: hang() if name == target else real_pointer(root, name)
    ckpt = T.latest_checkpoint(a.out_dir)
    print("START", ckpt.name if ckpt else "fresh", flush=True)
    torch.manual_seed(0)
    model = TinyClassifier()
    def loss_fn(m, batch):
        if a.slow: time.sleep(a.slow)
        return T.model_loss(m, batch)
    res = T.train(model, examples(38, 1), config(a.out_dir), val_data=examples(12, 2), loss_fn=loss_fn,
                  collate_fn=torch.utils.data.default_collate)
    torch.save({"weights": model.state_dict(), "steps": res["steps"], "history": res["history"],
                "resumed_from": ckpt.name if ckpt else None}, a.result)
    print("DONE", res["steps"], flush=True)


if __name__ == "__main__":
    main()
