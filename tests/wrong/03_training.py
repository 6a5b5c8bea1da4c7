"""Wrong implementations of assignment 03_training, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_P2_HEAD = "def accumulate_and_step(model, optimizer, batches, accum, loss_fn):\n    steps = 0\n"

WRONG = {
    "p1": {"warmup_from_zero": {"p1_solution": "if step < warmup_steps:\n    return peak_lr * step / warmup_steps\n"
                                "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))\n"
                                "return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))"},
           "ignores_min_lr": {"p1_solution": "if step < warmup_steps:\n    return peak_lr * (step + 1) / warmup_steps\n"
                              "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))\n"
                              "return float(peak_lr * 0.5 * (1 + math.cos(math.pi * progress)))"},
           "progress_over_total": {"p1_solution": "if step < warmup_steps:\n    return peak_lr * (step + 1) / warmup_steps\n"
                                   "progress = min(1.0, step / total_steps)\n"
                                   "return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))"},
           "not_clipped": {"p1_solution": "if step < warmup_steps:\n    return peak_lr * (step + 1) / warmup_steps\n"
                           "progress = (step - warmup_steps) / (total_steps - warmup_steps)\n"
                           "return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))"},
           "linear_decay": {"p1_solution": "if step < warmup_steps:\n    return peak_lr * (step + 1) / warmup_steps\n"
                            "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))\n"
                            "return float(min_lr + (peak_lr - min_lr) * (1 - progress))"}},
    "p2": {"unchanged": {"p2_solution": "accumulate_and_step = buggy_accumulate_and_step"},
           "tail_divided_by_accum": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    for i, batch in enumerate(batches):\n        (loss_fn(model, batch) / accum).backward()\n"
               "        if (i + 1) % accum == 0 or i + 1 == len(batches):\n            optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"},
           "no_initial_zero_grad": {"p2_solution": _P2_HEAD +
               "    for s in range(0, len(batches), accum):\n        group = batches[s:s + accum]\n"
               "        for batch in group:\n            (loss_fn(model, batch) / len(group)).backward()\n"
               "        optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"},
           "no_division": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    for s in range(0, len(batches), accum):\n        for batch in batches[s:s + accum]:\n"
               "            loss_fn(model, batch).backward()\n        optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"},
           "never_zeroed_between_steps": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    for s in range(0, len(batches), accum):\n        group = batches[s:s + accum]\n"
               "        for batch in group:\n            (loss_fn(model, batch) / len(group)).backward()\n"
               "        optimizer.step(); steps += 1\n    return steps"}},
    "p3": {"clip_before_unscale": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                   "norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\nscaler.unscale_(optimizer)\n"
                                   "scale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\nreturn norm, scaler.get_scale() >= scale"},
           "no_unscale": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                          "norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\n"
                          "scale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\nreturn norm, scaler.get_scale() >= scale"},
           "norm_after_clipping": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                   "scaler.unscale_(optimizer)\ntorch.nn.utils.clip_grad_norm_(params, max_norm)\n"
                                   "norm = torch.cat([p.grad.flatten() for p in params]).norm().item()\n"
                                   "scale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\nreturn norm, scaler.get_scale() >= scale"},
           "plain_step_no_skip": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                  "scaler.unscale_(optimizer)\nnorm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\n"
                                  "optimizer.step()\nscaler.update()\nreturn norm, True"},
           "always_stepped": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                              "scaler.unscale_(optimizer)\nnorm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\n"
                              "scaler.step(optimizer)\nscaler.update()\nreturn norm, True"}},
    "p4": {"no_rng": {"p4_solution": ["torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step}, f'{path}.tmp')\n"
                                      "os.replace(f'{path}.tmp', path)",
                                      "s = torch.load(path, weights_only=False)\nmodel.load_state_dict(s['model'])\n"
                                      "optimizer.load_state_dict(s['optimizer'])\nreturn s['step']"]},
           "torch_rng_only": {"p4_solution": ["torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step, "
                                              "'rng': torch.get_rng_state()}, f'{path}.tmp')\nos.replace(f'{path}.tmp', path)",
                                              "s = torch.load(path, weights_only=False)\nmodel.load_state_dict(s['model'])\n"
                                              "optimizer.load_state_dict(s['optimizer'])\ntorch.set_rng_state(s['rng'])\nreturn s['step']"]},
           "no_optimizer": {"p4_solution": ["torch.save({'model': model.state_dict(), 'step': step, 'rng': (torch.get_rng_state(), "
                                            "random.getstate(), np.random.get_state())}, f'{path}.tmp')\nos.replace(f'{path}.tmp', path)",
                                            "s = torch.load(path, weights_only=False)\nmodel.load_state_dict(s['model'])\n"
                                            "torch.set_rng_state(s['rng'][0]); random.setstate(s['rng'][1]); np.random.set_state(s['rng'][2])\n"
                                            "return s['step']"]},
           "not_atomic": {"p4_solution": ["torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step, "
                                          "'rng': (torch.get_rng_state(), random.getstate(), np.random.get_state())}, path)",
                                          "s = torch.load(path, weights_only=False)\nmodel.load_state_dict(s['model'])\n"
                                          "optimizer.load_state_dict(s['optimizer'])\n"
                                          "torch.set_rng_state(s['rng'][0]); random.setstate(s['rng'][1]); np.random.set_state(s['rng'][2])\n"
                                          "return s['step']"]},
           "tmp_left_behind": {"p4_solution": ["torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step, "
                                               "'rng': (torch.get_rng_state(), random.getstate(), np.random.get_state())}, f'{path}.tmp')\n"
                                               "import shutil; shutil.copy(f'{path}.tmp', path)",
                                               "s = torch.load(path, weights_only=False)\nmodel.load_state_dict(s['model'])\n"
                                               "optimizer.load_state_dict(s['optimizer'])\n"
                                               "torch.set_rng_state(s['rng'][0]); random.setstate(s['rng'][1]); np.random.set_state(s['rng'][2])\n"
                                               "return s['step']"]}},
    "p5": {"strict_patience_plus_one": {"p5_solution": "best, bad = None, 0\nfor v in values:\n"
                                        "    if v == v and (best is None or (v > best + min_delta if greater_is_better else v < best - min_delta)):\n"
                                        "        best, bad = v, 0\n    else:\n        bad += 1\nreturn bad > patience"},
           "ignores_min_delta": {"p5_solution": "best, bad = None, 0\nfor v in values:\n"
                                 "    if v == v and (best is None or (v > best if greater_is_better else v < best)):\n"
                                 "        best, bad = v, 0\n    else:\n        bad += 1\nreturn len(values) > patience and bad >= patience"},
           "compares_to_previous": {"p5_solution": "if len(values) <= patience:\n    return False\n"
                                    "tail = values[-patience - 1:]\nbetter = lambda a, b: a > b + min_delta if greater_is_better else a < b - min_delta\n"
                                    "return not any(better(tail[i + 1], tail[i]) for i in range(patience))"},
           "nan_is_best": {"p5_solution": "best, bad = None, 0\nfor v in values:\n"
                           "    if best is None or (v > best + min_delta if greater_is_better else v < best - min_delta):\n"
                           "        best, bad = v, 0\n    else:\n        bad += 1\nreturn len(values) > patience and bad >= patience"},
           "always_minimises": {"p5_solution": "best, bad = None, 0\nfor v in values:\n"
                                "    if v == v and (best is None or v < best - min_delta):\n"
                                "        best, bad = v, 0\n    else:\n        bad += 1\nreturn len(values) > patience and bad >= patience"}},
}

# Mistakes the specification invites: each must lose points on its part.
_LR = ("if step < warmup_steps:\n    return {warm}\nprogress = {progress}\n"
       "return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))")
_OK_WARM, _OK_PROG = "peak_lr * (step + 1) / warmup_steps", "min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))"
_CLIP = ("params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\nscaler.unscale_(optimizer)\n"
         "norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\nscale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\n"
         "return norm, scaler.get_scale() >= scale")
_SAVE = ("state = {{'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step, "
         "'rng': {{'torch': torch.get_rng_state(), 'python': random.getstate(), 'numpy': np.random.get_state()}}}}\n{write}")
_ATOMIC = "tmp = f'{path}.tmp'\nwith open(tmp, 'wb') as f:\n    torch.save(state, f)\n    f.flush()\n    os.fsync(f.fileno())\nos.replace(tmp, path)"
_LOAD = ("state = torch.load(path, weights_only=False)\nmodel.load_state_dict(state['model'])\n{opt}"
         "torch.set_rng_state(state['rng']['torch'])\nrandom.setstate(state['rng']['python'])\n{np}return state['step']")
_STOP = ("best, bad = None, 0\nfor v in values:\n    improved = {improved}\n    if improved:\n        best, bad = v, 0\n"
         "    else:\n        bad += 1\nreturn {ret}")
_OK_IMP = "v == v and (best is None or (v > best + min_delta if greater_is_better else v < best - min_delta))"
MORE = {
    "p1": {"warmup_to_peak_after": {"p1_solution": _LR.format(warm="peak_lr * (step + 1) / (warmup_steps + 1)", progress=_OK_PROG)},
           "integer_progress": {"p1_solution": _LR.format(warm=_OK_WARM, progress="min(1, (step - warmup_steps) // (total_steps - warmup_steps))")},
           "full_cosine_period": {"p1_solution": _LR.format(warm=_OK_WARM, progress=_OK_PROG).replace("math.pi * progress", "2 * math.pi * progress")},
           "progress_off_by_one": {"p1_solution": _LR.format(warm=_OK_WARM, progress="min(1.0, (step - warmup_steps + 1) / (total_steps - warmup_steps))")},
           "warmup_from_min": {"p1_solution": _LR.format(warm="min_lr + (peak_lr - min_lr) * (step + 1) / warmup_steps", progress=_OK_PROG)},
           "tensor_result": {"p1_solution": _LR.format(warm=_OK_WARM, progress=_OK_PROG).replace("return float(", "return torch.tensor(").replace(
               "return peak_lr * (step + 1) / warmup_steps", "return torch.tensor(peak_lr * (step + 1) / warmup_steps)")}},
    "p2": {"zero_grad_every_batch": {"p2_solution": _P2_HEAD +
               "    for s in range(0, len(batches), accum):\n        group = batches[s:s + accum]\n        for batch in group:\n"
               "            optimizer.zero_grad()\n            (loss_fn(model, batch) / len(group)).backward()\n"
               "        optimizer.step(); steps += 1\n    return steps"},
           "step_every_batch": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    for batch in batches:\n        (loss_fn(model, batch) / accum).backward()\n"
               "        optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"},
           "tail_merged_into_last_step": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    n_full = len(batches) // accum\n    for k in range(max(n_full, 1)):\n"
               "        group = batches[k * accum:(k + 1) * accum] if k < max(n_full, 1) - 1 else batches[k * accum:]\n"
               "        for batch in group:\n            (loss_fn(model, batch) / len(group)).backward()\n"
               "        optimizer.step(); optimizer.zero_grad(); steps += 1\n    return steps"},
           "counts_micro_batches": {"p2_solution": _P2_HEAD +
               "    optimizer.zero_grad()\n    for s in range(0, len(batches), accum):\n        group = batches[s:s + accum]\n"
               "        for batch in group:\n            (loss_fn(model, batch) / len(group)).backward()\n            steps += 1\n"
               "        optimizer.step(); optimizer.zero_grad()\n    return steps"}},
    "p3": {"first_group_only": {"p3_solution": _CLIP.replace("for g in optimizer.param_groups for p in g['params']", "for p in optimizer.param_groups[0]['params']")},
           "scaled_norm_returned": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                                   "raw = torch.cat([p.grad.flatten() for p in params]).norm().item()\nscaler.unscale_(optimizer)\n"
                                                   "torch.nn.utils.clip_grad_norm_(params, max_norm)\nscale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\n"
                                                   "return raw, scaler.get_scale() >= scale"},
           "no_update": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\nscaler.unscale_(optimizer)\n"
                                        "norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\nscaler.step(optimizer)\nreturn norm, True"},
           "tensor_norm": {"p3_solution": _CLIP.replace(".item()", "")},
           "clip_value_not_norm": {"p3_solution": "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\nscaler.unscale_(optimizer)\n"
                                                  "norm = torch.cat([p.grad.flatten() for p in params]).norm().item()\ntorch.nn.utils.clip_grad_value_(params, max_norm)\n"
                                                  "scale = scaler.get_scale()\nscaler.step(optimizer)\nscaler.update()\nreturn norm, scaler.get_scale() >= scale"}},
    "p4": {"python_rng_missing": {"p4_solution": [_SAVE.format(write=_ATOMIC),
                                                  _LOAD.format(opt="optimizer.load_state_dict(state['optimizer'])\n", np="np.random.set_state(state['rng']['numpy'])\n").replace("random.setstate(state['rng']['python'])\n", "")]},
           "numpy_rng_missing": {"p4_solution": [_SAVE.format(write=_ATOMIC), _LOAD.format(opt="optimizer.load_state_dict(state['optimizer'])\n", np="")]},
           "tmp_in_system_temp_not_replaced": {"p4_solution": [_SAVE.format(write="import shutil\ntmp = tempfile.mktemp()\ntorch.save(state, tmp)\nshutil.move(tmp, path)"),
                                                               _LOAD.format(opt="optimizer.load_state_dict(state['optimizer'])\n", np="np.random.set_state(state['rng']['numpy'])\n")]},
           "writes_in_place": {"p4_solution": [_SAVE.format(write="with open(path, 'wb') as f:\n    torch.save(state, f)\n    f.flush()\n    os.fsync(f.fileno())"),
                                               _LOAD.format(opt="optimizer.load_state_dict(state['optimizer'])\n", np="np.random.set_state(state['rng']['numpy'])\n")]},
           "step_not_saved": {"p4_solution": [_SAVE.format(write=_ATOMIC).replace("'step': step, ", ""),
                                              _LOAD.format(opt="optimizer.load_state_dict(state['optimizer'])\n", np="np.random.set_state(state['rng']['numpy'])\n").replace("return state['step']", "return 0")]}},
    "p5": {"relative_delta": {"p5_solution": _STOP.format(improved="v == v and (best is None or (v > best * (1 + min_delta) if greater_is_better else v < best * (1 - min_delta)))",
                                                          ret="len(values) > patience and bad >= patience")},
           "non_strict_improvement": {"p5_solution": _STOP.format(improved="v == v and (best is None or (v >= best + min_delta if greater_is_better else v <= best - min_delta))",
                                                                  ret="len(values) > patience and bad >= patience")},
           "counts_all_bad": {"p5_solution": "best, bad = None, 0\nfor v in values:\n    if " + _OK_IMP + ":\n        best = v\n    else:\n        bad += 1\n"
                                             "return len(values) > patience and bad >= patience"},
           "nan_first_is_best": {"p5_solution": _STOP.format(improved="best is None or (v == v and (v > best + min_delta if greater_is_better else v < best - min_delta))",
                                                             ret="len(values) > patience and bad >= patience")},
           "no_length_check": {"p5_solution": _STOP.format(improved=_OK_IMP, ret="bad >= patience")},
           "numpy_bool": {"p5_solution": _STOP.format(improved=_OK_IMP, ret="np.int64(len(values) > patience and bad >= patience)")}},
}
for _part, _vs in MORE.items(): WRONG[_part].update(_vs)

# Written after the probes, as a held-out check of how they generalise (all caught before any probe changed).
HELD_OUT = {'p1': {'cos_over_T_minus_W_minus_1': {'p1_solution': 'if step < warmup_steps:\n'
                                                      '    return peak_lr * (step + 1) / warmup_steps\n'
                                                      'p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps - 1))\n'
                                                      'return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * p)))'},
        'warm_over_W_minus_1': {'p1_solution': 'if step < warmup_steps:\n'
                                               '    return peak_lr * step / max(1, warmup_steps - 1)\n'
                                               'p = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))\n'
                                               'return float(min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * p)))'}},
 'p2': {'only_last_backward': {'p2_solution': 'def accumulate_and_step(model, optimizer, batches, accum, loss_fn):\n'
                                              '    optimizer.zero_grad(); steps = 0\n'
                                              '    for s in range(0, len(batches), accum):\n'
                                              '        group = batches[s:s + accum]\n'
                                              '        total = sum(loss_fn(model, b).item() for b in group[:-1])\n'
                                              '        (loss_fn(model, group[-1]) / len(group)).backward()\n'
                                              '        optimizer.step(); optimizer.zero_grad(); steps += 1\n'
                                              '    return steps'},
        'sum_not_mean': {'p2_solution': 'def accumulate_and_step(model, optimizer, batches, accum, loss_fn):\n'
                                        '    optimizer.zero_grad(); steps = 0\n'
                                        '    for s in range(0, len(batches), accum):\n'
                                        '        sum(loss_fn(model, b) for b in batches[s:s + accum]).backward()\n'
                                        '        optimizer.step(); optimizer.zero_grad(); steps += 1\n'
                                        '    return steps'}},
 'p3': {'stepped_from_state': {'p3_solution': "params = [p for g in optimizer.param_groups for p in g['params'] if p.grad is not None]\n"
                                              'scaler.unscale_(optimizer)\n'
                                              'norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()\n'
                                              'scaler.step(optimizer)\n'
                                              'scaler.update()\n'
                                              "return norm, norm == norm and norm != float('inf') and len(optimizer.state) > 0"}},
 'p4': {'no_python_rng_restore': {'p4_solution': ["state = {'m': model.state_dict(), 'o': optimizer.state_dict(), 's': step, 't': "
                                                  "torch.get_rng_state(), 'n': np.random.get_state()}\n"
                                                  "tmp = path + '.tmp'\n"
                                                  'torch.save(state, tmp)\n'
                                                  'os.replace(tmp, path)',
                                                  'st = torch.load(path, weights_only=False)\n'
                                                  "model.load_state_dict(st['m']); optimizer.load_state_dict(st['o'])\n"
                                                  "torch.set_rng_state(st['t']); np.random.set_state(st['n'])\n"
                                                  "return st['s']"]},
        'saves_before_fsync_direct': {'p4_solution': ["state = {'m': model.state_dict(), 'o': optimizer.state_dict(), 's': step, 't': "
                                                      "torch.get_rng_state(), 'p': random.getstate(), 'n': np.random.get_state()}\n"
                                                      'if os.path.exists(path): os.remove(path)\n'
                                                      'torch.save(state, path)',
                                                      'st = torch.load(path, weights_only=False)\n'
                                                      "model.load_state_dict(st['m']); optimizer.load_state_dict(st['o'])\n"
                                                      "torch.set_rng_state(st['t']); random.setstate(st['p']); np.random.set_state(st['n'])\n"
                                                      "return st['s']"]}},
 'p5': {'stop_when_last_not_best': {'p5_solution': 'vals = [v for v in values if v == v]\n'
                                                   'if len(values) <= patience or not vals: return len(values) > patience\n'
                                                   'best = max(vals) if greater_is_better else min(vals)\n'
                                                   'return all(not (v > best + min_delta if greater_is_better else v < best - min_delta) for v in '
                                                   'values[-patience:]) and values[-patience:] != [best] * patience'},
        'patience_over_all_history': {'p5_solution': 'best, bad = None, 0\n'
                                                     'for v in values:\n'
                                                     '    if v == v and (best is None or (v > best + min_delta if greater_is_better else v < best - '
                                                     'min_delta)):\n'
                                                     '        best = v\n'
                                                     '    else:\n'
                                                     '        bad += 1\n'
                                                     'return len(values) > patience and bad >= patience'}}}
for _part, _vs in HELD_OUT.items(): WRONG[_part].update(_vs)
