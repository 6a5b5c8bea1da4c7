"""Serve a fine-tuned model: merge, export to ONNX, quantize to int8, and a FastAPI service that batches, guards, measures and rolls out.

Docs: https://ftcourse.github.io/ftcourse/serving.html.md"""

# %% export-imports
import asyncio, contextlib, io, warnings, hashlib, hmac, json, logging, math, os, random, socket, tempfile, threading, time, uuid
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, asdict, fields
from pathlib import Path
from typing import Callable
import numpy as np
import torch
from torch import nn, Tensor
from .core import model_path, load_bundled, BUNDLED_DATASETS
from .lora import lora_layers, merge_lora, load_classifier
try:
    import onnx, onnxruntime as ort
    from fastapi import FastAPI, Depends, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from fastapi.security import APIKeyHeader
    from pydantic import BaseModel, Field, field_validator
    import prometheus_client
except ImportError as e:   # the serving stack is an extra: the rest of ftcourse works without it
    raise ImportError(f"ftcourse.serving needs the serving stack ({e.name} is missing): pip install 'ftcourse[serve]'") from e

log = logging.getLogger("ftcourse.serving")

# %% merge
QUANTIZED_LAYERS = ("Linear4bit", "Linear8bitLt", "NF4Linear", "QLoRALinear")

def quantized_layers(model: nn.Module) -> list[str]:
    "Names of the layers whose weights are stored quantized (bitsandbytes 4/8-bit, lesson 05's NF4)."
    return [n for n, m in model.named_modules() if type(m).__name__ in QUANTIZED_LAYERS]

def merge_adapter(model: nn.Module, # a PEFT model, or a model with from-scratch `LoRALinear` layers
                 ) -> nn.Module: # a plain model: the adapter folded into the base weights, no wrapper left
    "Fold a LoRA adapter into the base weights: PEFT's `merge_and_unload`, or `merge_lora` and unwrapping."
    if quantized_layers(model):
        raise ValueError(f"the base is quantized ({quantized_layers(model)[0]}, ...): 4-bit weights cannot hold the merged update; "
                         "reload the base in full precision and merge there: load_merged(base, adapter_dir)")
    if hasattr(model, "merge_and_unload"): return model.merge_and_unload()
    layers = lora_layers(model)
    if not layers: raise ValueError("the model has no LoRA layers (neither PEFT's nor ftcourse.lora's) to merge")
    merge_lora(model)
    for name, layer in layers.items():
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, layer.base)
    return model

def load_merged(base: str, # bundled name, directory or hub id of the base the adapter was trained on
                adapter: str | os.PathLike, # a PEFT adapter directory (`save_pretrained`), e.g. trained with QLoRA on a 4-bit base
                task: str = "classification", # "classification" or "causal_lm"
                labels=(), # class names, for a classifier
                attn_implementation: str | None = None, # "eager": attention in the form ONNX Runtime fuses; None: the default (SDPA)
               ) -> nn.Module: # the merged float32 model, in eval mode
    "Reload `base` in full precision, apply the adapter, merge: how a QLoRA fine-tune gets exported."
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    if task == "classification": model = load_classifier(base, labels)[0]
    elif task == "causal_lm": model = AutoModelForCausalLM.from_pretrained(model_path(base), dtype=torch.float32)
    else: raise ValueError(f"task must be 'classification' or 'causal_lm', got {task!r}")
    if attn_implementation: model.set_attn_implementation(attn_implementation)
    return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().eval()

# %% export
class LogitsOnly(nn.Module):
    "A `transformers` model seen as (input_ids, attention_mask) -> logits: no cache, no loss, one output to export."
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        kw = {"use_cache": False} if getattr(self.model.config, "is_decoder", False) or hasattr(self.model.config, "use_cache") else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **kw).logits

@contextlib.contextmanager
def _quiet_exporter():
    "The exporters print progress lines and warn about optional packages (torchvision) and their own internals."
    torch_log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = torch_log.level; torch_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally: torch_log.setLevel(level)

def export_onnx(model: nn.Module, # a full-precision `transformers` classifier or causal LM (merge adapters first)
                path: str | os.PathLike, # the .onnx file to write (weights inside it)
                dynamo: bool = True, # True: torch.export-based exporter; False: the TorchScript-based one
                example_shape: tuple[int, int] = (2, 16), # (batch, sequence) of the tracing example: keep both > 1 or they specialise
                opset: int = 18,
               ) -> Path:
    "Export `model` to ONNX with inputs input_ids and attention_mask, output logits, batch and sequence axes dynamic."
    if quantized_layers(model):
        raise ValueError(f"cannot export a quantized model ({quantized_layers(model)[0]}, ...): ONNX has no bitsandbytes 4-bit layers; "
                         "reload the base in full precision, merge the adapter (load_merged), then export")
    if hasattr(model, "peft_config"): raise ValueError("merge the adapter before export (merge_adapter(model)): a PeftModel exports its wrappers")
    if min(example_shape) < 2: raise ValueError(f"example_shape {example_shape}: a dimension of size 1 is specialised by the exporter, use >= 2")
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training; model.eval()
    wrapped = LogitsOnly(model)
    b, s = example_shape
    vocab = model.config.vocab_size
    ids = torch.randint(min(100, vocab - 1), vocab, (b, s)); mask = torch.ones(b, s, dtype=torch.long)
    names = dict(input_names=["input_ids", "attention_mask"], output_names=["logits"])
    try:
        with torch.no_grad(), _quiet_exporter():
            if dynamo:
                batch, seq = torch.export.Dim("batch", min=1, max=4096), torch.export.Dim("sequence", min=1, max=model.config.max_position_embeddings)
                torch.onnx.export(wrapped, (ids, mask), str(path), dynamo=True, external_data=False, opset_version=opset, verbose=False,
                                  dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}, **names)
            else:
                axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}}
                if getattr(model.config, "is_decoder", False) or "CausalLM" in type(model).__name__: axes["logits"][1] = "sequence"
                torch.onnx.export(wrapped, (ids, mask), str(path), dynamo=False, opset_version=opset, dynamic_axes=axes, **names)
    finally: model.train(was_training)
    return path

def onnx_axes(path: str | os.PathLike) -> dict[str, list]: # {tensor name: [dimension name (symbolic) or size (fixed)]}
    "The input and output shapes an ONNX graph declares: a string is a symbolic axis, an int a fixed one."
    g = onnx.load(str(path), load_external_data=False).graph
    dims = lambda v: [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]
    return {v.name: dims(v) for v in list(g.input) + list(g.output)}

# %% parity
def random_batch(batch: int, # rows
                 seq: int, # tokens per row
                 vocab_size: int, # ids are drawn from [low, vocab_size)
                 seed: int = 0, # seeds a private generator (the global RNG is left alone)
                 low: int = 100, # the first id drawn: keeps special tokens out
                 pad: bool = True, # give rows random lengths, padded at the end with mask 0 (row 0 keeps the full length)
                ) -> dict[str, Tensor]: # {"input_ids", "attention_mask"}, int64
    "Random token ids with an attention mask: the inputs of a parity check on any shape."
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(min(low, vocab_size - 1), vocab_size, (batch, seq), generator=g)
    lengths = torch.randint(1, seq + 1, (batch,), generator=g) if pad else torch.full((batch,), seq)
    lengths[0] = seq
    mask = (torch.arange(seq)[None, :] < lengths[:, None]).long()
    return {"input_ids": ids * mask, "attention_mask": mask}

def check_parity(model: nn.Module, # the PyTorch model (eval mode is used, the mode is restored)
                 session, # an onnxruntime InferenceSession of its export
                 shapes=((1, 5), (3, 64), (17, 128)), # (batch, sequence) pairs to test, best not the export example's
                 seed: int = 0,
                ) -> list[dict]: # one row per shape: batch, seq, max_abs_diff, argmax_agreement (over real tokens for an LM)
    "Compare PyTorch and ONNX Runtime logits on random padded batches of several shapes."
    rows, was = [], model.training
    model.eval()
    try:
        for i, (b, s) in enumerate(shapes):
            x = random_batch(b, s, model.config.vocab_size, seed=seed + i)
            with torch.no_grad(): ref = LogitsOnly(model)(**x).numpy()
            got = session.run(["logits"], {k: v.numpy() for k, v in x.items()})[0]
            if got.shape != ref.shape: raise ValueError(f"shape {b}x{s}: ONNX Runtime returned {got.shape}, PyTorch {ref.shape}")
            keep = x["attention_mask"].bool().numpy() if ref.ndim == 3 else np.ones(b, bool)   # an LM's padded positions are not compared
            rows.append({"batch": b, "seq": s, "max_abs_diff": float(np.abs(got - ref)[keep].max()),
                         "argmax_agreement": float((got.argmax(-1) == ref.argmax(-1))[keep].mean())})
    finally: model.train(was)
    return rows

# %% ort
def ort_session(path: str | os.PathLike, # an .onnx file
                threads: int = 1, # intra-op threads (fix it when you measure latency)
                optimize: bool = True, # ONNX Runtime's graph optimizations (constant folding, fusions) at load time
               ) -> "ort.InferenceSession":
    "An ONNX Runtime CPU session with a fixed thread count."
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

def op_counts(path: str | os.PathLike) -> Counter:
    "How many nodes of each operator type an ONNX graph has."
    return Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)

FUSED_OPS = ("Attention", "MultiHeadAttention", "EmbedLayerNormalization", "SkipLayerNormalization", "LayerNormalization",
             "BiasGelu", "FastGelu", "Gelu", "SkipSimplifiedLayerNormalization", "RotaryEmbedding", "GroupQueryAttention")

def optimize_transformer(src: str | os.PathLike, # an exported encoder, e.g. BERT/MiniLM
                         dst: str | os.PathLike, # where to write the fused graph
                         num_heads: int, hidden_size: int, # from the model's config
                         model_type: str = "bert",
                        ) -> dict[str, int]: # fused operator -> node count (only the ones found)
    "Run ONNX Runtime's transformer fusions offline and count the fused nodes they produced."
    from onnxruntime.transformers.optimizer import optimize_model
    ortlog = logging.getLogger("onnxruntime.transformers"); level = ortlog.level; ortlog.setLevel(logging.ERROR)
    try:
        opt = optimize_model(str(src), model_type=model_type, num_heads=num_heads, hidden_size=hidden_size, opt_level=0)
        opt.save_model_to_file(str(dst))
    finally: ortlog.setLevel(level)
    counts = op_counts(dst)
    return {op: counts[op] for op in FUSED_OPS if counts[op]}

def quantize_int8(src: str | os.PathLike, # a float32 .onnx file
                  dst: str | os.PathLike, # where to write the int8 model
                  signed: bool = True, # int8 weights (True) or uint8 weights (False); activations are uint8 either way
                  per_channel: bool = False, # one scale per output channel instead of one per weight tensor
                 ) -> Path:
    "Dynamic int8 quantization with ONNX Runtime: weights stored in 8 bits, activations quantized on the fly."
    from onnxruntime.quantization import quantize_dynamic, QuantType
    model = onnx.load(str(src))
    del model.graph.value_info[:]   # shapes recorded by the dynamo exporter can disagree with re-inference; let the quantizer infer them
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "model.onnx"; onnx.save(model, str(clean))
        quantize_dynamic(str(clean), str(dst), weight_type=QuantType.QInt8 if signed else QuantType.QUInt8, per_channel=per_channel,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})   # for ops of ORT's own domain, e.g. fused ones
    return Path(dst)

def onnx_logits(session, # an InferenceSession of a classifier export
                tokenizer, texts, # the texts to classify
                batch_size: int = 64, max_length: int = 128,
               ) -> np.ndarray: # (len(texts), num_labels) float32
    "Logits of an exported classifier for `texts`, batch by batch."
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True, max_length=max_length, return_tensors="np")
        out.append(session.run(["logits"], {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)})[0])
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

def interleaved_latency(fns: dict[str, Callable], # name -> a call to time (no arguments)
                        repeats: int = 50, # timed calls of each
                        warmup: int = 5, # untimed calls of each first
                       ) -> dict[str, dict]: # name -> {"p50", "p95", "mean"} in milliseconds, plus "samples" (seconds)
    "Time several calls side by side, round-robin, so that machine noise hits them all alike."
    for f in fns.values():
        for _ in range(warmup): f()
    t = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter(); f(); t[k].append(time.perf_counter() - t0)
    return {k: {"p50": 1e3 * float(np.percentile(v, 50)), "p95": 1e3 * float(np.percentile(v, 95)),
                "mean": 1e3 * float(np.mean(v)), "samples": np.array(v)} for k, v in t.items()}

# %% qat
def fake_quantize(x: Tensor, # values to quantize and dequantize
                  bits: int, # signed levels -(2^(bits-1)-1) .. 2^(bits-1)-1
                  scale: Tensor | None = None, # step size; None: absmax over `dim` (or the whole tensor)
                  dim: int | None = None, # keep this dimension: one scale per slice (e.g. 0 = per output channel of a weight)
                 ) -> Tensor:
    "Symmetric quantize-dequantize with a straight-through gradient (1 inside the range, 0 where clipped)."
    qmax = 2 ** (bits - 1) - 1
    if scale is None:
        amax = x.abs().amax() if dim is None else x.abs().amax(dim=[d for d in range(x.ndim) if d != dim % x.ndim], keepdim=True)
        scale = amax.clamp_min(1e-12) / qmax
    scale = scale.detach()
    y = torch.clamp(x / scale, -qmax, qmax)
    return (y + (y.round() - y).detach()) * scale

class QuantLinear(nn.Module):
    "A linear layer computed on fake-quantized weights (per output channel) and inputs (one calibrated scale)."
    def __init__(self, base: nn.Linear, # the float layer; its parameters are used (and trained, in QAT)
                 weight_bits: int = 8, act_bits: int | None = 8, # None: inputs stay float
                ):
        super().__init__()
        self.base, self.weight_bits, self.act_bits = base, weight_bits, act_bits
        self.register_buffer("act_amax", torch.zeros(()))
        self.calibrating = False
    def forward(self, x: Tensor) -> Tensor:
        if self.act_bits:
            if self.calibrating: self.act_amax = torch.maximum(self.act_amax, x.detach().abs().amax())
            elif self.act_amax == 0: raise RuntimeError("QuantLinear has no input scale yet: run calibrate(model, batches) first")
            else: x = fake_quantize(x, self.act_bits, scale=self.act_amax / (2 ** (self.act_bits - 1) - 1))
        return nn.functional.linear(x, fake_quantize(self.base.weight, self.weight_bits, dim=0), self.base.bias)
    def extra_repr(self): return f"weight_bits={self.weight_bits}, act_bits={self.act_bits}"

def fake_quant_model(model: nn.Module, # changed in place: every nn.Linear becomes a QuantLinear
                     weight_bits: int = 8, act_bits: int | None = 8) -> nn.Module:
    "Simulate integer inference: wrap every linear layer of `model` in `QuantLinear`."
    for name, m in list(model.named_modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.Linear): setattr(m, child_name, QuantLinear(child, weight_bits, act_bits))
    return model

@torch.no_grad()
def calibrate(model: nn.Module, # a model after `fake_quant_model`
              batches, # an iterable of inputs for `model(x)`
             ) -> nn.Module:
    "Record the largest input magnitude each `QuantLinear` sees on `batches`: the post-training quantization step."
    layers = [m for m in model.modules() if isinstance(m, QuantLinear)]
    for m in layers: m.calibrating = True; m.act_amax.zero_()
    was = model.training; model.eval()
    try:
        for x in batches: model(x)
    finally:
        for m in layers: m.calibrating = False
        model.train(was)
    return model

# %% batcher
class MicroBatcher:
    """Collect concurrent requests into batches: up to `max_batch` items, waiting at most `max_wait_ms` after the
    first one; run `fn(key, items)` in a worker thread, never on the event loop, one batch per key at a time."""
    def __init__(self, fn: Callable, # fn(key, items) -> one result per item; key groups items that may share a batch (e.g. an adapter)
                 max_batch: int = 32, # most items per call of fn
                 max_wait_ms: float = 5.0, # longest wait for more items once one arrived (0: take what is queued)
                 executor: ThreadPoolExecutor | None = None, # where fn runs (default: a private single thread)
                 on_batch: Callable | None = None, # on_batch(n_items) after each call, e.g. a histogram's observe
                ):
        if max_batch < 1: raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_ms < 0: raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn, self.max_batch, self.max_wait = fn, max_batch, max_wait_ms / 1e3
        self._own = executor is None
        self.executor = executor or ThreadPoolExecutor(1, thread_name_prefix="batcher")
        self.on_batch, self._queue, self._task = on_batch, None, None

    async def start(self):
        self._queue = asyncio.Queue(); self._task = asyncio.create_task(self._run())
        return self

    async def stop(self):
        if self._task: self._task.cancel(); await asyncio.gather(self._task, return_exceptions=True)
        if self._own: self.executor.shutdown(wait=False)

    @property
    def running(self) -> bool: return self._task is not None and not self._task.done()

    async def submit(self, key, items: list) -> list:
        "Queue `items` (all for `key`) and wait for their results."
        if not self.running: raise RuntimeError("the batcher is not running: call start() in the app's lifespan")
        fut = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((key, list(items), fut))
        return await fut

    async def _collect(self) -> list:
        first = await self._queue.get()
        pending, n = [first], len(first[1])
        deadline = time.perf_counter() + self.max_wait
        while n < self.max_batch:
            left = deadline - time.perf_counter()
            try: entry = self._queue.get_nowait() if left <= 0 else await asyncio.wait_for(self._queue.get(), left)
            except (asyncio.QueueEmpty, asyncio.TimeoutError): break
            pending.append(entry); n += len(entry[1])
        return pending

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            pending = await self._collect()
            groups: dict = {}
            for key, items, fut in pending: groups.setdefault(key, []).append((items, fut))
            for key, entries in groups.items():
                flat = [x for items, _ in entries for x in items]
                try:
                    results = []
                    for i in range(0, len(flat), self.max_batch):
                        chunk = flat[i:i + self.max_batch]
                        results += await loop.run_in_executor(self.executor, self.fn, key, chunk)
                        if self.on_batch: self.on_batch(len(chunk))
                except Exception as e:   # the requests of this group fail; the batcher lives on
                    for _, fut in entries:
                        if not fut.done(): fut.set_exception(e)
                    continue
                i = 0
                for items, fut in entries:
                    if not fut.done(): fut.set_result(results[i:i + len(items)])   # a client that went away has a cancelled future
                    i += len(items)

# %% predictors
def by_length(tokenizer, texts: list[str], # the texts of one batch
              run: Callable, # run(input_ids, attention_mask) -> logits, both int64 numpy arrays (rows, length)
              max_length: int = 128, # tokens per text (longer ones truncated)
              sub_batch: int = 8, # texts per forward pass, after sorting by length
             ) -> list[tuple[np.ndarray, int]]: # per text, in the given order: (logits, token count)
    "Sort a batch by length and run it in sub-batches, so that short texts are not padded to the longest one."
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    pad = tokenizer.pad_token_id or 0
    out = [None] * len(ids)
    order = np.argsort(lengths, kind="stable")
    for i in range(0, len(order), sub_batch):
        rows = order[i:i + sub_batch]
        width = lengths[rows].max()
        input_ids = np.full((len(rows), width), pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, j in enumerate(rows): input_ids[r, :lengths[j]] = ids[j]; mask[r, :lengths[j]] = 1
        for j, l in zip(rows, run(input_ids, mask)): out[j] = (np.asarray(l, np.float32), int(lengths[j]))
    return out

class TorchClassifier:
    "A PyTorch sequence classifier, optionally with several PEFT adapters on one base, as logits for (adapter, texts)."
    def __init__(self, model: nn.Module, tokenizer, labels, max_length: int = 128, sub_batch: int = 8):
        self.model, self.tokenizer, self.labels, self.max_length, self.sub_batch = model.eval(), tokenizer, list(labels), max_length, sub_batch
        self.adapters = sorted(model.peft_config) if hasattr(model, "peft_config") else []
        self._lock = threading.Lock()   # choosing an adapter changes the model: one call at a time
    def _run(self, input_ids, mask):
        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask)).logits.float().numpy()
    def __call__(self, adapter: str | None, texts: list[str]) -> list[tuple[np.ndarray, int]]: # per text: (logits, tokens)
        with self._lock:
            if self.adapters: self.model.set_adapter(adapter or self.adapters[0])
            return by_length(self.tokenizer, texts, self._run, self.max_length, self.sub_batch)

class OnnxClassifier:
    "An exported classifier run by ONNX Runtime, as logits for (adapter, texts); one session per adapter name."
    def __init__(self, sessions: dict, # adapter name (None: the default) -> InferenceSession
                 tokenizer, labels, max_length: int = 128, sub_batch: int = 8):
        self.sessions, self.tokenizer, self.labels, self.max_length, self.sub_batch = dict(sessions), tokenizer, list(labels), max_length, sub_batch
        self.adapters = sorted(k for k in self.sessions if k is not None)
    def __call__(self, adapter: str | None, texts: list[str]) -> list[tuple[np.ndarray, int]]:
        sess = self.sessions[adapter] if adapter in self.sessions else self.sessions[None if None in self.sessions else self.adapters[0]]
        run = lambda ids, mask: sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
        return by_length(self.tokenizer, texts, run, self.max_length, self.sub_batch)

class TorchGenerator:
    "A causal LM, optionally with PEFT adapters, as greedy completions for (adapter, prompt)."
    def __init__(self, model: nn.Module, tokenizer):
        self.model, self.tokenizer = model.eval(), tokenizer
        self.adapters = sorted(model.peft_config) if hasattr(model, "peft_config") else []
        self._lock = threading.Lock()
    def __call__(self, adapter: str | None, prompt: str, max_new_tokens: int) -> tuple[str, int]: # (completion, new tokens)
        enc = self.tokenizer(prompt, return_tensors="pt")
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with self._lock, torch.inference_mode():
            if self.adapters: self.model.set_adapter(adapter or self.adapters[0])
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad)
        new = out[0, enc["input_ids"].shape[1]:]
        return self.tokenizer.decode(new, skip_special_tokens=True), int(len(new))

# %% drift
def psi(reference, # values of a statistic on reference data (training inputs)
        current, # the same statistic on live inputs
        bins: int = 10, # quantile bins of the reference
        eps: float = 1e-4, # floor for empty bins (PSI is infinite without one)
       ) -> float:
    "Population stability index: sum over bins of (current% - reference%) * ln(current% / reference%)."
    reference, current = np.asarray(reference, float), np.asarray(current, float)
    if reference.size == 0 or current.size == 0: raise ValueError("psi needs non-empty reference and current samples")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])   # inner edges; ties in discrete data merge bins
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / reference.size
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / current.size
    r, c = np.maximum(r, eps), np.maximum(c, eps)
    return float(np.sum((c - r) * np.log(c / r)))

@dataclass
class DriftResult:
    "One window's verdict."
    n: int; ks_statistic: float; ks_pvalue: float; psi: float; alarm: bool

class DriftMonitor:
    "Compare tumbling windows of a live statistic with a reference sample: KS test and PSI, an alarm when either trips."
    def __init__(self, reference, # the statistic on reference data, e.g. token counts of the training texts
                 window: int = 200, # live values per verdict
                 alpha: float = 0.01, # KS p-value below which a window alarms
                 psi_threshold: float = 0.2, # PSI above which a window alarms (0.1-0.2: moderate shift, > 0.2: major, by convention)
                 bins: int = 10):
        self.reference = np.asarray(reference, float)
        if self.reference.size < bins: raise ValueError(f"reference has {self.reference.size} values; need at least {bins}")
        self.window, self.alpha, self.psi_threshold, self.bins = window, alpha, psi_threshold, bins
        self._buf, self.results = [], []
    def check(self, values) -> DriftResult:
        "The verdict on one sample of live values."
        from scipy.stats import ks_2samp
        ks = ks_2samp(self.reference, np.asarray(values, float))
        p = psi(self.reference, values, self.bins)
        return DriftResult(len(values), float(ks.statistic), float(ks.pvalue), p, bool(ks.pvalue < self.alpha or p > self.psi_threshold))
    def update(self, values) -> list[DriftResult]:
        "Add live values; return a verdict for each window they complete."
        self._buf.extend(np.asarray(values, float).ravel().tolist())
        out = []
        while len(self._buf) >= self.window:
            win, self._buf = self._buf[:self.window], self._buf[self.window:]
            out.append(self.check(win))
        self.results += out
        return out

# %% rollout
ROLLOUTS = ("shadow", "canary", "ab")

@dataclass
class Rollout:
    "How requests that name no adapter are split between two adapters on one base."
    strategy: str # "shadow": primary answers, candidate runs on a copy; "canary": a random `fraction` of requests; "ab": a sticky `fraction` of users
    primary: str # the adapter in production
    candidate: str # the adapter being rolled out
    fraction: float = 0.1 # canary: share of requests; ab: share of users (by hash of the user id); shadow: unused
    seed: int = 0 # seeds the canary's draws
    def __post_init__(self):
        if self.strategy not in ROLLOUTS: raise ValueError(f"rollout strategy must be one of {ROLLOUTS}, got {self.strategy!r}")
        if not 0 <= self.fraction <= 1: raise ValueError(f"rollout fraction must be in [0, 1], got {self.fraction}")
        if self.primary == self.candidate: raise ValueError(f"primary and candidate are the same adapter {self.primary!r}")
        self._rng = random.Random(self.seed)
    def route(self, user: str | None = None, # a stable user id (A/B); None: a fresh random draw
             ) -> tuple[str, str | None]: # (adapter that answers, adapter that runs in the shadow or None)
        if self.strategy == "shadow": return self.primary, self.candidate
        if self.strategy == "ab" and user is not None:
            u = int.from_bytes(hashlib.sha256(user.encode("utf-8", "surrogatepass")).digest()[:8], "big") / 2 ** 64
        else: u = self._rng.random()
        return (self.candidate if u < self.fraction else self.primary), None

# %% config
@dataclass
class ServeConfig:
    "Everything the service needs; JSON-serialisable, so that worker processes can rebuild it."
    model: str = "minilm" # bundled name, directory or hub id of the base model
    task: str = "classification" # "classification" or "generation" (a causal LM)
    labels: list | str | None = None # class names, or a bundled data set whose `label` column gives them (None: the model config's)
    adapters: dict = field(default_factory=dict) # adapter name -> PEFT adapter directory, all on the one base
    onnx: str | None = None # serve this exported classifier with ONNX Runtime instead of PyTorch (no adapters)
    threads: int = 1 # intra-op threads of PyTorch / ONNX Runtime
    max_length: int = 128 # tokens per text; longer texts are truncated
    max_batch: int = 32 # micro-batching: most texts per forward pass (1: one request at a time)
    max_wait_ms: float = 5.0 # micro-batching: longest wait for more requests
    sub_batch: int = 8 # texts per forward pass within a batch, sorted by length (less padding)
    max_texts: int = 64 # most texts per request (422 above)
    max_chars: int = 2000 # most characters per text or prompt (422 above)
    max_new_tokens: int = 64 # generation: most new tokens per request
    max_body_bytes: int = 65536 # request bodies above this get 413
    api_keys: list = field(default_factory=list) # accepted X-API-Key values; empty: no key needed (development only)
    rate_limit: float = 50.0 # requests per second per key (or per client address without keys)
    rate_burst: int = 100 # requests a key may send at once
    cors_origins: list = field(default_factory=list) # browser origins allowed to call the API; empty: none (CORS closed)
    rollout: dict | None = None # Rollout fields, e.g. {"strategy": "canary", "primary": "a", "candidate": "b", "fraction": 0.1}
    drift_reference: str | None = None # texts whose token counts are the reference: a bundled data set (train split) or a .txt file
    drift_window: int = 200 # live texts per drift verdict
    drift_alpha: float = 0.01
    drift_psi: float = 0.2

    def __post_init__(self):
        if self.task not in ("classification", "generation"): raise ValueError(f"task must be 'classification' or 'generation', got {self.task!r}")
        for k in ("threads", "max_length", "max_batch", "sub_batch", "max_texts", "max_chars", "max_new_tokens", "max_body_bytes", "rate_burst", "drift_window"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1: raise ValueError(f"{k} must be a positive int, got {v!r}")
        for k in ("max_wait_ms", "rate_limit"):
            v = getattr(self, k)
            if isinstance(v, (bool, str)) or not isinstance(v, (int, float)) or v < 0: raise ValueError(f"{k} must be a non-negative number, got {v!r}")
        if self.onnx and self.adapters: raise ValueError("an ONNX export is one merged model: serve adapters with the PyTorch backend (onnx=None)")
        if self.onnx and self.task != "classification": raise ValueError("the ONNX backend serves classifiers only")
        if isinstance(self.api_keys, str): self.api_keys = [self.api_keys]
        if any(not isinstance(k, str) or len(k) < 16 or not k.isascii() for k in self.api_keys):
            raise ValueError("API keys must be ASCII strings of at least 16 characters (e.g. secrets.token_urlsafe(24))")
        if self.rollout is not None:
            r = Rollout(**self.rollout)
            missing = {r.primary, r.candidate} - set(self.adapters)
            if missing: raise ValueError(f"rollout names adapters {sorted(missing)} that are not among adapters {sorted(self.adapters)}")

    def to_json(self) -> str: return json.dumps(asdict(self))
    @classmethod
    def from_json(cls, text: str) -> "ServeConfig":
        d = json.loads(text)
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown: raise ValueError(f"unknown ServeConfig fields {sorted(unknown)}; known: {[f.name for f in fields(cls)]}")
        return cls(**d)

def resolve_labels(labels, # a list, a comma-separated string, a bundled data set name, or None
                   model_config=None, # a transformers config whose id2label is used when labels is None
                  ) -> list[str]:
    "Class names from what a user gave."
    if isinstance(labels, str):
        if labels in BUNDLED_DATASETS: return sorted(set(load_bundled(labels)["train"]["label"]))
        labels = [l.strip() for l in labels.split(",") if l.strip()]
    if labels is None and model_config is not None:
        names = [model_config.id2label[i] for i in sorted(model_config.id2label)]
        if names and not all(n == f"LABEL_{i}" for i, n in enumerate(names)): return names
    if labels is None or len(labels) < 2:
        raise ValueError(f"a classifier needs at least 2 class names, got {labels!r}: pass labels (a list, 'a,b,c', or a bundled data set name)")
    return list(labels)

def reference_texts(source: str) -> list[str]:
    "Texts for the drift reference: a bundled data set's train split, or a UTF-8 .txt file (one text per line)."
    if source in BUNDLED_DATASETS: return list(load_bundled(source)["train"]["text"])
    p = Path(source)
    if not p.is_file(): raise FileNotFoundError(f"drift reference {source!r}: neither a bundled data set {list(BUNDLED_DATASETS)} nor a file")
    return [l for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]

def load_predictor(config: ServeConfig):
    "Load what `config` describes: a `TorchClassifier`, an `OnnxClassifier` or a `TorchGenerator`."
    from transformers import AutoTokenizer, AutoModelForCausalLM, AutoConfig
    torch.set_num_threads(config.threads)
    path = model_path(config.model)
    tok = AutoTokenizer.from_pretrained(path)
    for name, d in config.adapters.items():
        if not (Path(d) / "adapter_config.json").is_file(): raise FileNotFoundError(f"adapter {name!r}: {d} has no adapter_config.json (a PEFT save_pretrained directory)")
    if config.task == "generation":
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    else:
        labels = resolve_labels(config.labels, AutoConfig.from_pretrained(path))
        if config.onnx: return OnnxClassifier({None: ort_session(config.onnx, config.threads)}, tok, labels, config.max_length, config.sub_batch)
        model = load_classifier(config.model, labels)[0]
    if config.adapters:
        from peft import PeftModel
        (first, d0), *rest = config.adapters.items()
        model = PeftModel.from_pretrained(model, d0, adapter_name=first)
        for name, d in rest: model.load_adapter(d, adapter_name=name)
    return TorchGenerator(model, tok) if config.task == "generation" else TorchClassifier(model, tok, labels, config.max_length, config.sub_batch)

# %% metrics
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

class ServiceMetrics:
    "The service's Prometheus metrics, in a registry of their own; aggregated over worker processes when PROMETHEUS_MULTIPROC_DIR is set."
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter as C, Gauge, Histogram
        self.registry = r = CollectorRegistry()
        self.requests = C("ftcourse_requests", "HTTP requests answered, by endpoint, method and status", ["endpoint", "method", "status"], registry=r)
        self.latency = Histogram("ftcourse_request_seconds", "Time to answer a request", ["endpoint"], registry=r,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.batch_size = Histogram("ftcourse_batch_size", "Texts per forward pass", registry=r, buckets=(1, 2, 4, 8, 16, 32, 64, 128))
        self.routed = C("ftcourse_routed", "Requests answered by each adapter", ["adapter"], registry=r)
        self.shadow = C("ftcourse_shadow_predictions", "Shadow predictions, by agreement with the answer given", ["agree"], registry=r)
        self.drift_psi = Gauge("ftcourse_drift_psi", "PSI of the last window's token counts against the reference", registry=r, multiprocess_mode="mostrecent")
        self.drift_ks = Gauge("ftcourse_drift_ks_pvalue", "KS p-value of the last window's token counts", registry=r, multiprocess_mode="mostrecent")
        self.drift_alarms = C("ftcourse_drift_alarms", "Windows that tripped the drift alarm", registry=r)
        self.drift_windows = C("ftcourse_drift_windows", "Windows checked for drift", registry=r)
        self.confidence = Gauge("ftcourse_confidence", "Mean top-class probability over the last window (a label-free quality signal)",
                                registry=r, multiprocess_mode="mostrecent")
    def exposition(self) -> bytes:
        "The text format Prometheus scrapes; summed over processes in multiprocess mode."
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess
        if os.environ.get(MULTIPROC_ENV):
            reg = CollectorRegistry(); multiprocess.MultiProcessCollector(reg)
            return generate_latest(reg)
        return generate_latest(self.registry)

# %% security
def key_matches(given: str | None, # the X-API-Key header value
                keys, # the accepted keys
               ) -> bool:
    "Constant-time check of an API key against every accepted key (no early exit that timing could reveal)."
    if given is None: return False
    g = given.encode("utf-8", "surrogateescape")
    return bool(sum(hmac.compare_digest(g, k.encode()) for k in keys))

class RateLimiter:
    "A token bucket per key: `rate` requests per second, bursts up to `burst`; keeps at most `max_keys` buckets (least recent dropped)."
    def __init__(self, rate: float, burst: int, max_keys: int = 10_000, clock: Callable = time.monotonic):
        self.rate, self.burst, self.max_keys, self.clock = rate, burst, max_keys, clock
        self._buckets: OrderedDict = OrderedDict()
    def acquire(self, key: str) -> float:
        "0 if the request may go ahead, else the seconds to wait before the next one will."
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else ((1 - tokens) / self.rate if self.rate > 0 else math.inf)
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.max_keys: self._buckets.popitem(last=False)
        return wait

class BodyLimit:
    "ASGI middleware: answer 413 to a request body over `max_bytes`, whether announced by Content-Length or streamed."
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http": return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await _json_error(send, 413 if declared.isdigit() else 400, "request body too large" if declared.isdigit() else "bad Content-Length")
        chunks, size = [], 0
        while True:   # read the body here, bounded, and replay it to the app
            msg = await receive()
            if msg["type"] == "http.disconnect": return
            size += len(msg.get("body", b""))
            if size > self.max_bytes: return await _json_error(send, 413, "request body too large")
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"): break
        body, sent = b"".join(chunks), False
        async def replay():
            nonlocal sent
            if not sent: sent = True; return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        await self.app(scope, replay, send)

async def _json_error(send, status: int, detail: str, **extra):
    body = json.dumps({"detail": detail, **extra}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

class InternalErrors:
    "ASGI middleware: an exception that escapes the app becomes a 500 with a request id; the trace goes to the server's log only."
    def __init__(self, app): self.app = app
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http": return await self.app(scope, receive, send)
        started = False
        async def send_wrapper(msg):
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)
        try: await self.app(scope, receive, send_wrapper)
        except Exception as exc:   # handled here, so the connection stays usable (the server would close it)
            rid = uuid.uuid4().hex[:12]
            log.error("%s %s failed (request id %s)", scope.get("method"), scope.get("path"), rid, exc_info=exc)
            if started: raise
            await _json_error(send, 500, "internal server error", request_id=rid)

class MetricsMiddleware:
    "ASGI middleware: count every answer by endpoint and status and time it, 413s and crashes included."
    def __init__(self, app, metrics: ServiceMetrics, endpoints):
        self.app, self.metrics, self.endpoints = app, metrics, set(endpoints)
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http": return await self.app(scope, receive, send)
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"   # bounded label values: fuzzed paths do not create series
        status, t0 = 500, time.perf_counter()
        async def send_wrapper(msg):
            nonlocal status
            if msg["type"] == "http.response.start": status = msg["status"]
            await send(msg)
        try: await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - t0)

# %% schemas
def _utf8(text: str) -> str:
    "Reject strings that cannot be encoded (lone surrogates from JSON escapes like \\ud800): the tokenizer would crash on them."
    try: text.encode("utf-8")
    except UnicodeEncodeError: raise ValueError("text contains a lone surrogate (not valid Unicode text)") from None
    return text

def request_models(max_texts: int = 64, # most texts per classification request
                   max_chars: int = 2000, # most characters per text or prompt
                   max_new_tokens: int = 64, # most tokens a generation request may ask for
                  ) -> tuple[type, type]: # (ClassifyRequest, GenerateRequest)
    "The JSON bodies the service accepts, with their limits: anything else is answered 422 before it reaches the model."
    token_limit = max_new_tokens   # a class body cannot see an enclosing name it also defines
    class ClassifyRequest(BaseModel):
        model_config = {"extra": "forbid"}
        texts: list[str] = Field(min_length=1, max_length=max_texts, description="the texts to classify")
        adapter: str | None = Field(None, max_length=64, description="adapter to use; default: the rollout's choice or the first adapter")
        return_logits: bool = False
        @field_validator("texts")
        @classmethod
        def _texts(cls, v):
            for i, t in enumerate(v):
                if not 1 <= len(t) <= max_chars: raise ValueError(f"texts[{i}] has {len(t)} characters; allowed 1 to {max_chars}")
                _utf8(t)
            return v
    class GenerateRequest(BaseModel):
        model_config = {"extra": "forbid"}
        prompt: str = Field(min_length=1, max_length=max_chars)
        max_new_tokens: int = Field(16, ge=1, le=token_limit)
        adapter: str | None = Field(None, max_length=64)
        @field_validator("prompt")
        @classmethod
        def _prompt(cls, v): return _utf8(v)
    return ClassifyRequest, GenerateRequest

class Prediction(BaseModel):
    label: str
    score: float # softmax probability of the label
    logits: list[float] | None = None

class ClassifyResponse(BaseModel):
    model: str
    adapter: str | None # the adapter that answered
    predictions: list[Prediction]

class GenerateResponse(BaseModel):
    model: str
    adapter: str | None
    completion: str
    new_tokens: int

def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)

# %% app
ENDPOINTS = ("/health", "/ready", "/metrics", "/v1/classify", "/v1/generate")

def create_app(config: ServeConfig, # what to serve and the limits
               predictor=None, # an already loaded predictor (tests, notebooks); None: `load_predictor(config)` in the lifespan
               metrics: ServiceMetrics | None = None, # None: a fresh set
              ) -> FastAPI:
    "The service: model loaded in the lifespan, inference off the event loop with micro-batching, guarded, measured."
    metrics = metrics or ServiceMetrics()
    ClassifyRequest, GenerateRequest = request_models(config.max_texts, config.max_chars, config.max_new_tokens)
    limiter = RateLimiter(config.rate_limit, config.rate_burst)
    rollout = Rollout(**config.rollout) if config.rollout else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        s = app.state
        s.ready, s.background = False, set()
        s.executor = ThreadPoolExecutor(1, thread_name_prefix="inference")   # one inference at a time; the event loop stays free
        loop = asyncio.get_running_loop()
        s.predictor = predictor or await loop.run_in_executor(s.executor, load_predictor, config)
        s.model_name = Path(config.onnx).name if config.onnx else config.model
        s.batcher = await MicroBatcher(s.predictor, config.max_batch, config.max_wait_ms, s.executor, metrics.batch_size.observe).start() \
            if config.task == "classification" else None
        s.drift_queue, s.drift_task, s.drift = asyncio.Queue(maxsize=10_000), None, None
        if config.drift_reference and config.task == "classification":
            texts = reference_texts(config.drift_reference)
            counts = await loop.run_in_executor(s.executor, lambda: [len(ids) for ids in s.predictor.tokenizer(texts, truncation=True, max_length=config.max_length)["input_ids"]])
            s.drift = DriftMonitor(counts, config.drift_window, config.drift_alpha, config.drift_psi)
            s.drift_task = asyncio.create_task(_drift_loop(s.drift, s.drift_queue, metrics))
        s.ready = True
        try: yield
        finally:
            s.ready = False
            if s.drift_task: s.drift_task.cancel()
            if s.batcher: await s.batcher.stop()
            for t in list(s.background): t.cancel()
            s.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="ftcourse model service", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

    def authorize(request: Request, key: str | None = Depends(api_key_header)) -> str:
        "401 without a valid key, 429 over the key's rate; returns who is calling."
        if config.api_keys:
            if not key_matches(key, config.api_keys): raise HTTPException(401, "missing or invalid X-API-Key", headers={"WWW-Authenticate": "APIKey"})
            who = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
        else: who = "addr:" + (request.client.host if request.client else "unknown")
        wait = limiter.acquire(who)
        if wait > 0: raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return who

    def running(request: Request):
        if not request.app.state.ready: raise HTTPException(503, "the service is not ready")
        return request.app.state

    def choose(s, requested: str | None, user: str) -> tuple[str | None, str | None]:
        "The adapter that answers and the one in the shadow: the request's own choice wins over the rollout."
        adapters = s.predictor.adapters
        if requested is not None:
            if requested not in adapters: raise HTTPException(422, f"unknown adapter {requested!r}; available: {adapters}")
            return requested, None
        if rollout: return rollout.route(user)
        return (adapters[0] if adapters else None), None

    @app.get("/health")
    async def health():
        "Liveness: the process answers. Never touches the model."
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(request: Request):
        "Readiness: model loaded, batcher and drift monitor running."
        s = request.app.state
        ok = getattr(s, "ready", False) and (s.batcher is None or s.batcher.running) and (s.drift_task is None or not s.drift_task.done())
        body = {"ready": bool(ok), "model": getattr(s, "model_name", None), "adapters": getattr(getattr(s, "predictor", None), "adapters", [])}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics_endpoint():
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    if config.task == "classification":
        @app.post("/v1/classify", response_model=ClassifyResponse, response_model_exclude_none=True)
        async def classify(req: ClassifyRequest, request: Request, user: str = Depends(authorize)):
            "Classify a batch of texts; concurrent requests share forward passes."
            s = running(request)
            adapter, shadow = choose(s, req.adapter, request.headers.get("x-user-id") or user)
            results = await s.batcher.submit(adapter, req.texts)
            logits = np.stack([r[0] for r in results]); probs = softmax(logits)
            metrics.routed.labels(str(adapter)).inc()
            if shadow: _spawn(s, _shadow(s, shadow, req.texts, logits.argmax(-1), metrics))
            if s.drift is not None:
                with contextlib.suppress(asyncio.QueueFull): s.drift_queue.put_nowait(([r[1] for r in results], probs.max(-1).tolist()))
            labels = s.predictor.labels
            return ClassifyResponse(model=s.model_name, adapter=adapter, predictions=[
                Prediction(label=labels[int(p.argmax())], score=float(p.max()), logits=l.tolist() if req.return_logits else None)
                for p, l in zip(probs, logits)])

    if config.task == "generation":
        @app.post("/v1/generate", response_model=GenerateResponse)
        async def generate(req: GenerateRequest, request: Request, user: str = Depends(authorize)):
            "Greedy completion of a prompt by the causal LM, computed in the inference thread."
            s = running(request)
            adapter, _ = choose(s, req.adapter, user)
            text, n = await asyncio.get_running_loop().run_in_executor(s.executor, s.predictor, adapter, req.prompt, req.max_new_tokens)
            metrics.routed.labels(str(adapter)).inc()
            return GenerateResponse(model=s.model_name, adapter=adapter, completion=text, new_tokens=n)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        "422 with where and what, without echoing the input back."
        errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(InternalErrors)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"], allow_headers=["X-API-Key", "Content-Type"])
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoints=ENDPOINTS)
    app.state.metrics, app.state.config = metrics, config
    return app

def _spawn(state, coro):
    "Run `coro` in the background, keeping a reference until it is done (asyncio keeps only weak ones)."
    t = asyncio.create_task(coro); state.background.add(t); t.add_done_callback(state.background.discard)

async def _shadow(s, adapter: str, texts: list[str], answered: np.ndarray, metrics: ServiceMetrics):
    "The candidate's predictions on the same texts, compared with the answer given; failures are logged, never returned."
    try:
        results = await s.batcher.submit(adapter, texts)
        agree = np.stack([r[0] for r in results]).argmax(-1) == answered
        metrics.shadow.labels("true").inc(int(agree.sum())); metrics.shadow.labels("false").inc(int((~agree).sum()))
    except Exception: log.exception("shadow prediction with adapter %r failed", adapter)

async def _drift_loop(monitor: DriftMonitor, queue: asyncio.Queue, metrics: ServiceMetrics):
    "Started in the lifespan: turn each full window of live token counts into a verdict and gauges."
    conf = []
    while True:
        counts, top = await queue.get()
        conf += top
        for r in monitor.update(counts):
            metrics.drift_psi.set(r.psi); metrics.drift_ks.set(r.ks_pvalue); metrics.drift_windows.inc()
            if r.alarm: metrics.drift_alarms.inc(); log.warning("input drift: KS p=%.2g, PSI=%.3f over %d texts", r.ks_pvalue, r.psi, r.n)
            metrics.confidence.set(float(np.mean(conf[:r.n]))); conf = conf[r.n:]

# %% run
class BackgroundServer:
    "Serve an ASGI app with uvicorn from a background thread on a free loopback port: `with BackgroundServer(app) as srv: srv.url`."
    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, timeout: float = 120, log_level: str = "warning"):
        import uvicorn
        # proto=IPPROTO_TCP: asyncio turns Nagle off only on sockets that say so; without it every response waits 40 ms for a delayed ACK
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port, self.timeout = host, self.sock.getsockname()[1], timeout
        self.server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=5))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
    @property
    def url(self) -> str: return f"http://{self.host}:{self.port}"
    def __enter__(self):
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if not self.thread.is_alive(): raise RuntimeError("the server stopped during startup (its lifespan failed): see the log above")
            if time.monotonic() - t0 > self.timeout: self.__exit__(); raise TimeoutError(f"the server did not start within {self.timeout} s")
            time.sleep(0.02)
        return self
    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

CONFIG_ENV = "FTCOURSE_SERVE_CONFIG"
KEYS_ENV = "FTCOURSE_API_KEYS"

def app_from_env() -> FastAPI:
    "The app of a worker process: the configuration comes from the FTCOURSE_SERVE_CONFIG environment variable (JSON)."
    if CONFIG_ENV not in os.environ: raise RuntimeError(f"{CONFIG_ENV} is not set: start workers with ftcourse.serving.serve")
    return create_app(ServeConfig.from_json(os.environ[CONFIG_ENV]))

def serve(config: ServeConfig, # what to serve
          host: str = "127.0.0.1", # 0.0.0.0 inside a container
          port: int = 8000,
          workers: int = 1, # processes; > 1 turns on Prometheus multiprocess mode
          log_level: str = "info"):
    "Run the service with uvicorn until interrupted. API keys may also come from FTCOURSE_API_KEYS (comma-separated), keeping them off the command line."
    import uvicorn
    extra = [k.strip() for k in os.environ.get(KEYS_ENV, "").split(",") if k.strip()]
    if extra: config = ServeConfig(**{**asdict(config), "api_keys": list(config.api_keys) + extra})
    if workers > 1:
        d = Path(os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="ftcourse-metrics-"))
        d.mkdir(parents=True, exist_ok=True)
        for f in d.glob("*.db"): f.unlink()   # counts of an earlier run would be added to this one's
        os.environ[MULTIPROC_ENV], os.environ[CONFIG_ENV] = str(d), config.to_json()
        ServeConfig.from_json(os.environ[CONFIG_ENV])   # fail here, not in every worker
        uvicorn.run("ftcourse.serving:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level)
    else:
        uvicorn.run(create_app(config), host=host, port=port, log_level=log_level)

def config_from_args(config: str | None = None, # a JSON file of ServeConfig fields
                     model: str | None = None, labels: str | None = None, # override the file's model and class names
                     adapters=(), # "name=dir" strings, added to the file's adapters
                     onnx: str | None = None, # serve this export with ONNX Runtime
                    ) -> ServeConfig:
    "The ServeConfig of the `ftcourse serve` command line."
    d = json.loads(Path(config).read_text()) if config else {}
    if model: d["model"] = model
    if labels: d["labels"] = labels
    if onnx: d["onnx"] = onnx
    for a in adapters:
        name, sep, path = a.partition("=")
        if not sep or not name or not path: raise ValueError(f"--adapter wants NAME=DIR, got {a!r}")
        d.setdefault("adapters", {})[name] = path
    return ServeConfig.from_json(json.dumps(d))

class ServerProcess:
    "`ftcourse serve` in a child process on a free loopback port, stopped on exit: `with ServerProcess(cfg, workers=2) as srv: srv.url`."
    def __init__(self, config: ServeConfig, workers: int = 1, env: dict | None = None, timeout: float = 180, log_level: str = "warning"):
        self.config, self.workers, self.timeout, self.log_level = config, workers, timeout, log_level
        self.env = {**os.environ, **(env or {})}
        s = socket.socket(); s.bind(("127.0.0.1", 0)); self.port = s.getsockname()[1]; s.close()
        self.url, self.proc = f"http://127.0.0.1:{self.port}", None
    def __enter__(self):
        import subprocess, sys, httpx
        self._dir = tempfile.TemporaryDirectory()
        cfg = Path(self._dir.name) / "serve.json"; cfg.write_text(self.config.to_json())
        cmd = [sys.executable, "-c", "import sys; from ftcourse.cli import main; sys.exit(main())", "serve", "--config", str(cfg),
               "--port", str(self.port), "--workers", str(self.workers), "--log-level", self.log_level]
        self.proc = subprocess.Popen(cmd, env=self.env)
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None: self._dir.cleanup(); raise RuntimeError(f"the server exited with code {self.proc.returncode} during startup")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200: return self
            except httpx.HTTPError: pass
            if time.monotonic() - t0 > self.timeout: self.__exit__(); raise TimeoutError(f"the server was not ready within {self.timeout} s")
            time.sleep(0.1)
    def __exit__(self, *exc):
        import subprocess
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        self._dir.cleanup()

# %% load
def _in_thread(coro):
    "Run a coroutine to completion on a fresh event loop in another thread (works inside Jupyter's running loop too)."
    out = {}
    def target():
        try: out["value"] = asyncio.run(coro)
        except BaseException as e: out["error"] = e
    t = threading.Thread(target=target); t.start(); t.join()
    if "error" in out: raise out["error"]
    return out["value"]

def _summary(latencies: list[float], statuses: Counter, elapsed: float, errors: int) -> dict:
    lat = np.array(latencies) * 1e3 if latencies else np.array([np.nan])
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    return {"completed": ok, "throughput": ok / elapsed if elapsed > 0 else 0.0, "p50": float(np.percentile(lat, 50)),
            "p95": float(np.percentile(lat, 95)), "p99": float(np.percentile(lat, 99)), "statuses": dict(statuses), "errors": errors, "seconds": elapsed}

def open_loop(url: str, # e.g. srv.url + "/v1/classify"
              rate: float, # requests per second, sent on a fixed schedule whatever the answers do
              duration: float, # seconds of sending
              body: Callable, # body(i) -> the JSON of request i
              headers: dict | None = None, timeout: float = 30.0,
             ) -> dict: # completed, throughput (answers/s), p50/p95/p99 latency in ms from the *scheduled* send time, statuses, errors
    "Open-loop load: request i is due at i / rate; its latency counts from then, so a server that falls behind shows its queue."
    import httpx
    async def run():
        n = int(rate * duration)
        lat, statuses, errors = [], Counter(), 0
        async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=None, max_keepalive_connections=256), headers=headers) as client:
            async def one(i, due):
                nonlocal errors
                try:
                    r = await client.post(url, json=body(i))
                    statuses[r.status_code] += 1
                    if r.status_code < 300: lat.append(time.perf_counter() - due)
                except httpx.HTTPError: errors += 1
            t0 = time.perf_counter(); tasks = []
            for i in range(n):
                due = t0 + i / rate
                delay = due - time.perf_counter()
                if delay > 0: await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, due)))
            await asyncio.gather(*tasks)
            return _summary(lat, statuses, time.perf_counter() - t0, errors) | {"rate": rate, "sent": n}
    return _in_thread(run())

def closed_loop(url: str, concurrency: int, # clients, each sending its next request when the last one is answered
                requests: int, # in total
                body: Callable, headers: dict | None = None, timeout: float = 60.0) -> dict:
    "Closed-loop load: `concurrency` clients back to back; throughput is answers per second, latency per request."
    import httpx
    async def run():
        lat, statuses, errors, it = [], Counter(), 0, iter(range(requests))
        async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=concurrency), headers=headers) as client:
            async def worker():
                nonlocal errors
                for i in it:
                    t = time.perf_counter()
                    try:
                        r = await client.post(url, json=body(i)); statuses[r.status_code] += 1
                        if r.status_code < 300: lat.append(time.perf_counter() - t)
                    except httpx.HTTPError: errors += 1
            t0 = time.perf_counter()
            await asyncio.gather(*[worker() for _ in range(concurrency)])
            return _summary(lat, statuses, time.perf_counter() - t0, errors) | {"concurrency": concurrency}
    return _in_thread(run())

# %% fuzz
ODD_TEXTS = ["\x00", "a\x00b", "\u202eevil\u202c", "\ufeffbom", "e\u0301" * 300, "🧪" * 50, "\uffff\ufffe", "\U0010ffff",
             "\u200b\u200d\u2060", "\r\n\t", " ", "ﷺ" * 20, "Ꙭ𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\\ud800", "%s%n{}{0}", "<script>alert(1)</script>",
             "' OR 1=1 --", "../../etc/passwd", "\x1b[31mred", "a" * 64]

def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0: return rng.choice([None, True, False])
    if kind == 1: return rng.choice([0, -1, 2 ** 63, 1e308, -1e-308, 3.5])
    if kind == 2: return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(0, 30)))
    if kind == 3: return rng.choice(ODD_TEXTS)
    if kind == 4: return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {rng.choice(["texts", "adapter", "return_logits", "prompt", "x", ""]): _random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))}

def fuzz_cases(n: int = 1000, # how many requests
               seed: int = 0,
               config: ServeConfig | None = None, # its limits decide what "too long" and "too big" mean
               api_key: str | None = None, # a valid key, used by most cases (others send none or a wrong one)
               adapters=(), # valid adapter names, to mix in
              ) -> list[dict]: # {"method", "path", "headers", "content"}: arguments of httpx.Client.request
    "Hostile and malformed requests: random JSON, wrong types, missing and extra fields, huge bodies, odd Unicode, bad JSON, bad keys, odd paths."
    cfg, rng = config or ServeConfig(), random.Random(seed)
    good = lambda: {"texts": [rng.choice(["a small furry animal", "a tool for cutting", "a sweet fruit"])]}
    def body_cases():
        return [
            lambda: _random_json(rng),
            lambda: {"texts": _random_json(rng)},
            lambda: {"texts": [_random_json(rng) for _ in range(rng.randrange(1, 4))]},
            lambda: {"texts": rng.choice([1, "text", None, {}, [[]], [1, 2], [True]])},
            lambda: {"text": "a bare text field"},
            lambda: {},
            lambda: {**good(), "adapter": rng.choice([1, [], "no-such-adapter", "", "x" * 100, None, *adapters])},
            lambda: {**good(), "return_logits": rng.choice(["yes", 2, None, [], True])},
            lambda: {**good(), "extra": 1},
            lambda: {"texts": [rng.choice(ODD_TEXTS) for _ in range(rng.randrange(1, 5))]},
            lambda: {"texts": ["x" * (cfg.max_chars + rng.randrange(1, 100))]},
            lambda: {"texts": ["ok"] * (cfg.max_texts + rng.randrange(1, 10))},
            lambda: {"texts": []},
            lambda: {"texts": [""]},
            lambda: {"prompt": _random_json(rng), "max_new_tokens": rng.choice([0, -1, 10 ** 9, "5", 3.5, None])},
            lambda: good(),
        ]
    cases = []
    for i in range(n):
        headers = {"content-type": "application/json"}
        r = rng.random()
        if api_key and r < 0.9: headers["x-api-key"] = api_key
        elif r < 0.95: headers["x-api-key"] = rng.choice(["wrong", "", "k" * 10_000, api_key[:-1] + "x" if api_key else "x"])
        path, method = "/v1/classify" if cfg.task == "classification" else "/v1/generate", "POST"
        kind = rng.random()
        if kind < 0.55: content = json.dumps(rng.choice(body_cases())(), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        elif kind < 0.65: content = rng.randbytes(rng.randrange(0, 2000))                                     # not JSON, maybe not UTF-8
        elif kind < 0.72: content = json.dumps(good()).encode()[: rng.randrange(1, 20)]                        # truncated JSON
        elif kind < 0.78: content = b'{"texts": ["' + b"y" * (cfg.max_body_bytes + rng.randrange(1, 4 * cfg.max_body_bytes)) + b'"]}'   # over the body limit
        elif kind < 0.82: d = rng.randrange(100, 20_000); content = (b"[" * d + b"]" * d)[: cfg.max_body_bytes]    # deep nesting
        elif kind < 0.86: content = b'{"texts": [NaN, Infinity, 1e999]}'
        elif kind < 0.9: content = json.dumps(good()).encode(); headers["content-type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
        elif kind < 0.95:
            method, content = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST"]), json.dumps(good()).encode()
            path = rng.choice(["/v1/classify", "/v1/classify/", "/v1/generate", "/", "/admin", "/v1/../metrics", "/" + "a" * 2000, "/health?x=" + "%00" * 10, "/docs", "/openapi.json"])
        else: content = json.dumps(good()).encode()                                                           # a valid request
        cases.append({"method": method, "path": path, "headers": headers, "content": content})
    return cases
