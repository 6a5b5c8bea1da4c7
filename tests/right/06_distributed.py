"""Correct implementations of assignment 06_distributed written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_STEPS = '''def accumulation_steps(train_batch_size: int, micro_batch_size: int, world_size: int) -> int:
    """gradient_accumulation_steps for a DeepSpeed config that trains on `train_batch_size` examples per step."""
{body}'''

RIGHT = {
    "p1": {"slices_by_hand_rank_major_log": {"p1_solution": (
               "n = len(tensors)\n"
               "L = tensors[0].numel() if n else 0\n"
               "sizes = [L // n + (1 if i < L % n else 0) for i in range(n)]\n"
               "starts = [sum(sizes[:i]) for i in range(n)]\n"
               "bufs = [t.clone() for t in tensors]\n"
               "sl = lambda c: slice(starts[c], starts[c] + sizes[c])\n"
               "log = []\n"
               "for s in range(n - 1):\n"
               "    msgs = [(r, (r + 1) % n, (r - s) % n) for r in range(n)]\n"
               "    vals = [bufs[r][sl(c)].clone() for r, _, c in msgs]\n"
               "    for (r, d, c), v in zip(msgs, vals):\n"
               "        bufs[d][sl(c)] += v\n"
               "for s in range(n - 1):\n"
               "    msgs = [(r, (r + 1) % n, (r + 1 - s) % n) for r in range(n)]\n"
               "    vals = [bufs[r][sl(c)].clone() for r, _, c in msgs]\n"
               "    for (r, d, c), v in zip(msgs, vals):\n"
               "        bufs[d][sl(c)] = v\n"
               "for r in reversed(range(n)):\n"
               "    for phase in ('all-gather', 'reduce-scatter'):\n"
               "        for s in range(n - 1):\n"
               "            c = (r - s) % n if phase == 'reduce-scatter' else (r + 1 - s) % n\n"
               "            log.append((phase, s, r, (r + 1) % n, c))\n"
               "return bufs, log")},
           "dict_of_chunks_float64_sums": {"p1_solution": (
               "n = len(tensors)\n"
               "held = {(r, i): c.double() if c.is_floating_point() else c.clone() for r, t in enumerate(tensors) for i, c in enumerate(torch.tensor_split(t, n))}\n"
               "transfers = []\n"
               "for s in range(n - 1):\n"
               "    sent = {r: ((r - s) % n, held[r, (r - s) % n].clone()) for r in range(n)}\n"
               "    for r, (c, v) in sent.items():\n"
               "        held[(r + 1) % n, c] = held[(r + 1) % n, c] + v\n"
               "        transfers.append(('reduce-scatter', s, r, (r + 1) % n, c))\n"
               "for s in range(n - 1):\n"
               "    sent = {r: ((r + 1 - s) % n, held[r, (r + 1 - s) % n].clone()) for r in range(n)}\n"
               "    for r, (c, v) in sent.items():\n"
               "        held[(r + 1) % n, c] = v\n"
               "        transfers.append(('all-gather', s, r, (r + 1) % n, c))\n"
               "results = [torch.cat([held[r, i] for i in range(n)]).to(tensors[r].dtype) for r in range(n)]\n"
               "return results, transfers")}},
    "p2": {"modulo_padding_and_range": {"p2_solution": (
               "if shuffle:\n"
               "    g = torch.Generator()\n"
               "    g.manual_seed(seed + epoch)\n"
               "    order = torch.randperm(n, generator=g).tolist()\n"
               "else:\n"
               "    order = list(range(n))\n"
               "total = (n // world_size) * world_size if drop_last else -(-n // world_size) * world_size\n"
               "return [order[i % n] for i in range(rank, total, world_size)]")},
           "cycle_and_islice": {"p2_solution": (
               "import itertools\n"
               "order = list(range(n))\n"
               "if shuffle:\n"
               "    order = [int(i) for i in torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))]\n"
               "size = len(order) // world_size * world_size if drop_last else math.ceil(len(order) / world_size) * world_size\n"
               "padded = list(itertools.islice(itertools.cycle(order), size)) if order else []\n"
               "return padded[rank:size:world_size]")}},
    "p3": {"divide_at_the_end": {"p3_solution": (
               "if not (isinstance(stage, int) and 0 <= stage <= 3):\n"
               "    raise ValueError('stage must be an integer from 0 to 3')\n"
               "if world_size < 1:\n"
               "    raise ValueError('world_size must be >= 1')\n"
               "full = {'parameters': float(n_params * param_bytes), 'gradients': float(n_params * grad_bytes), 'optimizer': float(n_params * optimizer_bytes)}\n"
               "first_sharded_at = {'optimizer': 1, 'gradients': 2, 'parameters': 3}\n"
               "return {k: v / world_size if stage >= first_sharded_at[k] else v for k, v in full.items()}")},
           "negative_power": {"p3_solution": (
               "if stage not in range(4) or world_size < 1:\n"
               "    raise ValueError(f'bad stage {stage} or world size {world_size}')\n"
               "w = float(world_size)\n"
               "return dict(optimizer=n_params * optimizer_bytes * w ** -(stage >= 1), gradients=n_params * grad_bytes * w ** -(stage >= 2),\n"
               "            parameters=n_params * param_bytes * w ** -(stage >= 3))")}},
    "p4": {"divmod": {"p4_solution": _STEPS.format(body=(
               "    steps, rest = divmod(train_batch_size, micro_batch_size * world_size)\n"
               "    if rest or steps < 1:\n"
               "        raise ValueError('train_batch_size must be a positive multiple of micro_batch_size * world_size')\n"
               "    return steps"))},
           "count_up": {"p4_solution": _STEPS.format(body=(
               "    steps = 1\n"
               "    while micro_batch_size * world_size * steps < train_batch_size:\n"
               "        steps += 1\n"
               "    if micro_batch_size * world_size * steps != train_batch_size:\n"
               "        raise ValueError(f'no whole number of accumulation steps gives {train_batch_size}')\n"
               "    return steps"))}},
    "p5": {"divide_by_count_over_world": {"p5_solution": (
               "if torch.is_tensor(local_count):\n"
               "    count = local_count.detach().to(torch.float64, copy=True)\n"
               "else:\n"
               "    count = torch.tensor(float(local_count), dtype=torch.float64)\n"
               "world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1\n"
               "if world > 1:\n"
               "    dist.all_reduce(count, op=dist.ReduceOp.SUM)\n"
               "return local_sum / (count / world).to(local_sum.dtype)")},
           "python_float_scale": {"p5_solution": (
               "total = torch.tensor([float(local_count)])\n"
               "world = 1\n"
               "if dist.is_initialized():\n"
               "    world = dist.get_world_size()\n"
               "    dist.all_reduce(total)\n"
               "return local_sum * (world / total.item())")},
           "all_gather_the_counts": {"p5_solution": (
               "mine = torch.as_tensor(local_count).reshape(1).to(torch.float64)\n"
               "if not dist.is_initialized():\n"
               "    return local_sum / mine.to(local_sum.dtype)[0]\n"
               "counts = [torch.zeros(1, dtype=torch.float64) for _ in range(dist.get_world_size())]\n"
               "dist.all_gather(counts, mine)\n"
               "return local_sum * (len(counts) / torch.cat(counts).sum()).to(local_sum.dtype)")}},
}
