"""Correct implementations of assignment 03_training written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_HEAD = "def accumulate_and_step(model, optimizer, batches, accum, loss_fn):\n"

RIGHT = {
    "p1": {"decay_from_peak": {"p1_solution": "if warmup_steps and step < warmup_steps:\n    return float(peak_lr * (step + 1) / warmup_steps)\n"
                                              "p = (step - warmup_steps) / (total_steps - warmup_steps)\np = 1.0 if p > 1 else p\n"
                                              "return peak_lr - (peak_lr - min_lr) * (1 - math.cos(math.pi * p)) / 2"},
           "torch_cos_then_float": {"p1_solution": "if step < warmup_steps:\n    return (step + 1) / warmup_steps * peak_lr\n"
                                                   "p = torch.tensor(min(step - warmup_steps, total_steps - warmup_steps) / (total_steps - warmup_steps), dtype=torch.float64)\n"
                                                   "return (min_lr + 0.5 * (peak_lr - min_lr) * (1 + torch.cos(torch.pi * p))).item()"},
           "numpy_float": {"p1_solution": "if step < warmup_steps:\n    return float(np.float64(peak_lr) * (step + 1) / warmup_steps)\n"
                                          "p = np.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)\n"
                                          "return np.float64(min_lr + (peak_lr - min_lr) * 0.5 * (1 + np.cos(np.pi * p)))"}},
    "p2": {"counter_with_flush": {"p2_solution": _HEAD + "    optimizer.zero_grad(set_to_none=True)\n    steps, pending = 0, []\n"
                                  "    def flush():\n        for b in pending:\n            (loss_fn(model, b) / len(pending)).backward()\n"
                                  "        optimizer.step(); optimizer.zero_grad(set_to_none=True); pending.clear()\n"
                                  "    for b in batches:\n        pending.append(b)\n        if len(pending) == accum:\n            flush(); steps += 1\n"
                                  "    if pending:\n        flush(); steps += 1\n    return steps"},
           "mean_of_stacked_losses": {"p2_solution": _HEAD + "    optimizer.zero_grad()\n    steps = 0\n"
                                      "    for s in range(0, len(batches), accum):\n        losses = [loss_fn(model, b) for b in batches[s:s + accum]]\n"
                                      "        torch.stack(losses).mean().backward()\n        optimizer.step()\n        optimizer.zero_grad()\n        steps += 1\n"
                                      "    return steps"},
           "index_arithmetic": {"p2_solution": _HEAD + "    n = len(batches)\n    for p in model.parameters():\n        p.grad = None\n    steps = 0\n"
                                "    for i, b in enumerate(batches):\n        start = i - i % accum\n        size = min(accum, n - start)\n"
                                "        (loss_fn(model, b) / size).backward()\n        if i == start + size - 1:\n"
                                "            optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"}},
    "p3": {"manual_norm_float64": {"p3_solution": "params = [p for group in optimizer.param_groups for p in group['params'] if p.grad is not None]\n"
                                                  "scaler.unscale_(optimizer)\nnorm = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in params))\n"
                                                  "torch.nn.utils.clip_grad_norm_(params, max_norm)\nbefore = scaler.get_scale()\n"
                                                  "scaler.step(optimizer)\nscaler.update()\nreturn float(norm), bool(scaler.get_scale() >= before)"},
           "finite_check": {"p3_solution": "params = [p for group in optimizer.param_groups for p in group['params'] if p.grad is not None]\n"
                                           "scaler.unscale_(optimizer)\nfinite = all(bool(torch.isfinite(p.grad).all()) for p in params)\n"
                                           "total = torch.nn.utils.clip_grad_norm_(params, max_norm)\nscaler.step(optimizer)\nscaler.update()\n"
                                           "return total.item(), finite"}},
    "p4": {"pathlib_and_named_temp": {"p4_solution": [
               "from pathlib import Path\nimport tempfile as _tf\ntarget = Path(path)\n"
               "payload = {'model': model.state_dict(), 'opt': optimizer.state_dict(), 'step': int(step), 'torch_rng': torch.get_rng_state(),\n"
               "           'py_rng': random.getstate(), 'np_rng': np.random.get_state()}\n"
               "fd, tmp = _tf.mkstemp(dir=target.parent, prefix='.ckpt-')\ntry:\n    with os.fdopen(fd, 'wb') as f:\n"
               "        torch.save(payload, f)\n        f.flush()\n        os.fsync(f.fileno())\n    os.replace(tmp, target)\nexcept BaseException:\n"
               "    if os.path.exists(tmp):\n        os.remove(tmp)\n    raise",
               "payload = torch.load(path, weights_only=False)\nmodel.load_state_dict(payload['model'])\noptimizer.load_state_dict(payload['opt'])\n"
               "torch.set_rng_state(payload['torch_rng'])\nrandom.setstate(payload['py_rng'])\nnp.random.set_state(payload['np_rng'])\nreturn payload['step']"]}},
    "p5": {"since_best_index": {"p5_solution": "if len(values) <= patience:\n    return False\nbest_i, best = None, None\n"
                                               "for i, v in enumerate(values):\n    if math.isnan(v):\n        continue\n"
                                               "    if best is None or (v - best > min_delta if greater_is_better else best - v > min_delta):\n        best_i, best = i, v\n"
                                               "since = len(values) if best_i is None else len(values) - 1 - best_i\nreturn since >= patience"},
           "sign_flip": {"p5_solution": "sign = -1.0 if greater_is_better else 1.0\nbest, waited = math.inf, 0\n"
                                        "for v in values:\n    if v == v and sign * v < best - min_delta if best != math.inf else v == v:\n"
                                        "        best, waited = sign * v, 0\n    else:\n        waited += 1\n"
                                        "return bool(len(values) > patience and waited >= patience)"}},
}

# Written after the probes, as a held-out check (all accepted before any probe changed): clipping the scaled
# gradients to max_norm * scale and float32 quantiles are equivalent to the specification, not mistakes.
HELD_OUT = {'p5': {'reverse_scan': {'p5_solution': 'if len(values) <= patience: return False\n'
                                        'def better(a, b):\n'
                                        '    if a != a: return False\n'
                                        '    if b is None: return True\n'
                                        '    return a > b + min_delta if greater_is_better else a < b - min_delta\n'
                                        'best, last_improved = None, -1\n'
                                        'for i, v in enumerate(values):\n'
                                        '    if better(v, best): best, last_improved = v, i\n'
                                        'return len(values) - 1 - last_improved >= patience'}},
 'p3': {'clip_scaled_max_norm': {'p3_solution': "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                                'scale = scaler.get_scale()\n'
                                                'norm = torch.nn.utils.clip_grad_norm_(params, max_norm * scale).item() / scale\n'
                                                'scaler.step(optimizer)\n'
                                                'scaler.update()\n'
                                                'return norm, scaler.get_scale() >= scale'}}}
for _part, _vs in HELD_OUT.items(): RIGHT.setdefault(_part, {}).update(_vs)

MORE = {
    "p4": {"named_temporary_file": {"p4_solution": [
        "import tempfile as _tf\nstate = dict(model=model.state_dict(), optimizer=optimizer.state_dict(), step=step,\n"
        "             rng=(torch.get_rng_state(), random.getstate(), np.random.get_state()))\n"
        "with _tf.NamedTemporaryFile(dir=os.path.dirname(os.path.abspath(path)), delete=False) as f:\n"
        "    torch.save(state, f)\n    f.flush()\n    os.fsync(f.fileno())\nos.replace(f.name, path)",
        "state = torch.load(path, weights_only=False)\nmodel.load_state_dict(state['model'])\noptimizer.load_state_dict(state['optimizer'])\n"
        "t, p, n = state['rng']\ntorch.set_rng_state(t)\nrandom.setstate(p)\nnp.random.set_state(n)\nreturn int(state['step'])"]}},
}
for _part, _vs in MORE.items(): RIGHT.setdefault(_part, {}).update(_vs)
