"""Wrong implementations of assignment 06_distributed, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_RING = '''n = len(tensors)
chunks = [[c.clone() for c in {split}] for t in tensors]
transfers = []
for phase in ("reduce-scatter", "all-gather"):
    for s in range(n - 1){phase_limit}:
        sends = []
        for r in range(n):
            c = (r - s) % n if phase == "reduce-scatter" else {gather_chunk}
            sends.append((r, (r + 1) % n, c, chunks[r][c].clone()))
        for src, dst, c, value in sends:
            chunks[dst][c] = chunks[dst][c] + value if phase == "reduce-scatter" else value
            transfers.append((phase, s, src, dst, c))
return [torch.cat(cs){post} for cs in chunks], transfers'''

def _ring(split="torch.tensor_split(t, n)", phase_limit="", gather_chunk="(r + 1 - s) % n", post=""):
    return _RING.format(split=split, phase_limit=phase_limit, gather_chunk=gather_chunk, post=post)

_SAMPLER = '''order = {order}
if drop_last: order = order[:n // world_size * world_size]
else:
    total = math.ceil(n / world_size) * world_size
    {pad}
return {take}'''

def _sampler(order="torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist() if shuffle else list(range(n))",
             pad="while len(order) < total: order += order[:total - len(order)]", take="order[rank::world_size]"):
    return _SAMPLER.format(order=order, pad=pad, take=take)

_ZERO = '''if stage not in (0, 1, 2, 3): raise ValueError(f"stage must be 0, 1, 2 or 3, got {{stage}}")
if world_size < 1: raise ValueError(f"world_size must be at least 1, got {{world_size}}")
share = lambda sharded: 1 / world_size if sharded else 1.0
return {{"parameters": n_params * param_bytes * share({p}), "gradients": n_params * grad_bytes * share({g}),
        "optimizer": n_params * optimizer_bytes * share({o})}}'''

_STEPS = '''def accumulation_steps(train_batch_size: int, micro_batch_size: int, world_size: int) -> int:
    {body}'''

_LOSS = '''count = {count}
world = 1
if dist.is_initialized():
    dist.all_reduce(count)
    world = dist.get_world_size()
return {result}'''

WRONG = {
    "p1": {"reduce_scatter_only": {"p1_solution": _ring(phase_limit=" if phase == 'reduce-scatter' else range(0)")},
           "gathers_the_wrong_chunk": {"p1_solution": _ring(gather_chunk="(r - s) % n")},
           "chunk_instead_of_tensor_split": {"p1_solution": _ring(split="t.chunk(n)")},
           "mean_not_sum": {"p1_solution": _ring(post=" / n")},
           "results_share_one_tensor": {"p1_solution": _ring().replace("return [torch.cat(cs) for cs in chunks]", "out = torch.cat(chunks[0])\nreturn [out] * n")},
           "adds_into_the_inputs": {"p1_solution": _ring(split="torch.tensor_split(t, n)").replace("[c.clone() for c in torch.tensor_split(t, n)]", "list(torch.tensor_split(t, n))")
                                    .replace("chunks[dst][c] = chunks[dst][c] + value if phase == \"reduce-scatter\" else value",
                                             "if phase == \"reduce-scatter\": chunks[dst][c].add_(value)\n            else: chunks[dst][c] = value")},
           "float_result_for_integers": {"p1_solution": _ring(post=".double()")},
           "steps_counted_from_1": {"p1_solution": _ring().replace("transfers.append((phase, s, src, dst, c))", "transfers.append((phase, s + 1, src, dst, c))")}},
    "p2": {"same_order_every_epoch": {"p2_solution": _sampler(order="torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist() if shuffle else list(range(n))")},
           "pads_with_example_0": {"p2_solution": _sampler(pad="order += [0] * (total - len(order))")},
           "contiguous_shards": {"p2_solution": _sampler(take="order[rank * (len(order) // world_size):(rank + 1) * (len(order) // world_size)]")},
           "global_random_state": {"p2_solution": _sampler(order="(torch.manual_seed(seed + epoch), torch.randperm(n).tolist())[1] if shuffle else list(range(n))")},
           "pads_from_the_end": {"p2_solution": _sampler(pad="while len(order) < total: order += order[len(order) - (total - len(order)):] if total - len(order) <= len(order) else order")},
           "pads_once_only": {"p2_solution": _sampler(pad="order += order[:total - len(order)]")},
           "drop_last_ignored": {"p2_solution": _sampler().replace("if drop_last: order = order[:n // world_size * world_size]\nelse:", "if True:")},
           "python_random_shuffle": {"p2_solution": _sampler(order="(lambda o: (__import__('random').Random(seed + epoch).shuffle(o), o)[1])(list(range(n))) if shuffle else list(range(n))")}},
    "p3": {"stage1_shards_gradients": {"p3_solution": _ZERO.format(p="stage >= 3", g="stage >= 1", o="stage >= 1")},
           "stage2_shards_parameters": {"p3_solution": _ZERO.format(p="stage >= 2", g="stage >= 3", o="stage >= 1")},
           "integer_division": {"p3_solution": _ZERO.format(p="stage >= 3", g="stage >= 2", o="stage >= 1").replace("share = lambda sharded: 1 / world_size if sharded else 1.0", "share = lambda sharded: world_size if sharded else 1").replace("* share(", "// share(")},
           "stage3_keeps_parameters": {"p3_solution": _ZERO.format(p="stage >= 4", g="stage >= 2", o="stage >= 1")},
           "no_input_check": {"p3_solution": "share = lambda sharded: 1 / max(world_size, 1) if sharded else 1.0\nreturn {'parameters': n_params * param_bytes * share(stage >= 3), 'gradients': n_params * grad_bytes * share(stage >= 2), 'optimizer': n_params * optimizer_bytes * share(stage >= 1)}"}},
    "p4": {"the_colleagues_version": {"p4_solution": _STEPS.format(body="return max(1, train_batch_size // micro_batch_size)")},
           "floors_instead_of_refusing": {"p4_solution": _STEPS.format(body="return max(1, train_batch_size // (micro_batch_size * world_size))")},
           "rounds_up": {"p4_solution": _STEPS.format(body="return math.ceil(train_batch_size / (micro_batch_size * world_size))")},
           "checks_the_micro_batch_only": {"p4_solution": _STEPS.format(body="if train_batch_size % micro_batch_size: raise ValueError('not a multiple')\n    return train_batch_size // (micro_batch_size * world_size)")},
           "float_steps": {"p4_solution": _STEPS.format(body="if train_batch_size % (micro_batch_size * world_size) or train_batch_size < micro_batch_size * world_size: raise ValueError('bad batch')\n    return train_batch_size / (micro_batch_size * world_size)")}},
    "p5": {"local_mean": {"p5_solution": "return local_sum / local_count"},
           "no_world_size_factor": {"p5_solution": _LOSS.format(count="torch.as_tensor(local_count, dtype=torch.float64).clone()", result="local_sum / count.to(local_sum.dtype)")},
           "float_count_in_place": {"p5_solution": _LOSS.format(count="torch.as_tensor(local_count).float()", result="local_sum * (world / count).to(local_sum.dtype)")},
           "loses_the_graph": {"p5_solution": _LOSS.format(count="torch.as_tensor(local_count, dtype=torch.float64).clone()", result="torch.tensor(local_sum.item() * world / count.item(), dtype=local_sum.dtype)")},
           "float32_result": {"p5_solution": _LOSS.format(count="torch.as_tensor(local_count, dtype=torch.float64).clone()", result="local_sum.float() * float(world / count)")},
           "all_reduces_the_sum_too": {"p5_solution": _LOSS.format(count="torch.as_tensor(local_count, dtype=torch.float64).clone()", result="local_sum * (world / count).to(local_sum.dtype)").replace("    dist.all_reduce(count)\n", "    dist.all_reduce(count)\n    s = local_sum.detach().clone(); dist.all_reduce(s); local_sum = local_sum + (s - local_sum.detach()) / world\n")},
           "all_reduces_the_callers_count": {"p5_solution": _LOSS.format(count="local_count if isinstance(local_count, torch.Tensor) else torch.tensor(local_count)", result="local_sum * (world / count).to(local_sum.dtype)")}},
}
