"""Correct implementations of assignment 05_qlora written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_DQ = ("blocksize = codes.numel() // absmax.numel()\nvals = levels.float()[codes.long()].reshape(-1, blocksize) * absmax[:, None]\n"
       "return vals.reshape(-1)[:math.prod(shape)].reshape(shape)")
_PK = "c = codes.reshape(-1).to(torch.uint8)\nif c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\nreturn (c[0::2] << 4) | c[1::2]"

RIGHT = {
    "p1": {"erfinv": {"p1_solution": "q = lambda p: math.sqrt(2) * torch.erfinv(2 * p - 1)\n"
                                     "pos = q(torch.linspace(delta, 0.5, 9, dtype=torch.float64)[:-1])\n"
                                     "neg = -q(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])\n"
                                     "v = torch.cat([neg, pos, torch.zeros(1, dtype=torch.float64)])\nv = v / v.abs().max()\n"
                                     "return torch.sort(v).values.to(torch.float32)"},
           "statistics_normaldist": {"p1_solution": "from statistics import NormalDist\nN = NormalDist()\n"
                                                    "pos = [N.inv_cdf(delta + (0.5 - delta) * i / 8) for i in range(8)]\n"
                                                    "neg = [-N.inv_cdf(delta + (0.5 - delta) * i / 7) for i in range(7)]\n"
                                                    "m = max(abs(v) for v in pos + neg)\nreturn torch.tensor(sorted(v / m for v in pos + neg + [0.0]), dtype=torch.float32)"},
           "each_side_normalised": {"p1_solution": "pos = torch.special.ndtri(torch.linspace(delta, 0.5, 9, dtype=torch.float64)[:-1])\n"
                                                   "neg = torch.special.ndtri(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])\n"
                                                   "levels = torch.cat([-neg / neg.max(), torch.zeros(1, dtype=torch.float64), pos / pos.max()])\n"
                                                   "return levels.sort()[0].float()"}},
    "p2": {"bucketize_midpoints": {"p2_solution": [
               "lv = levels.float()\nflat = x.flatten().to(torch.float32)\npad = (blocksize - flat.numel() % blocksize) % blocksize\n"
               "blocks = torch.cat([flat, flat.new_zeros(pad)]).view(-1, blocksize)\nabsmax = blocks.abs().max(dim=1).values\n"
               "safe = torch.where(absmax > 0, absmax, torch.ones_like(absmax))\nscaled = blocks / safe[:, None]\n"
               "mid = (lv[1:] + lv[:-1]) / 2\ncodes = torch.bucketize(scaled.contiguous(), mid.contiguous(), right=False)\n"
               "return codes.to(torch.uint8).flatten(), absmax", _DQ]},
           "loop_over_blocks": {"p2_solution": [
               "flat = x.reshape(-1).float()\nn_blocks = -(-flat.numel() // blocksize)\ncodes = torch.zeros(n_blocks * blocksize, dtype=torch.uint8)\n"
               "absmax = torch.zeros(n_blocks)\nfor i in range(n_blocks):\n    blk = flat[i * blocksize:(i + 1) * blocksize]\n    m = blk.abs().max()\n"
               "    absmax[i] = m\n    s = blk / m if m > 0 else blk\n    idx = (s[:, None] - levels.float()[None]).abs().argmin(1)\n"
               "    codes[i * blocksize:i * blocksize + len(blk)] = idx.to(torch.uint8)\n"
               "    if len(blk) < blocksize: codes[i * blocksize + len(blk):(i + 1) * blocksize] = (levels.float()).abs().argmin().to(torch.uint8)\n"
               "return codes, absmax",
               "n = math.prod(shape)\nblocksize = len(codes) // len(absmax)\nout = torch.empty(len(codes))\n"
               "for i in range(len(absmax)):\n    out[i * blocksize:(i + 1) * blocksize] = levels.float()[codes[i * blocksize:(i + 1) * blocksize].long()] * absmax[i]\n"
               "return out[:n].view(*shape)"]},
           "float64_scaling": {"p2_solution": [
               "flat = x.reshape(-1).double()\nblocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\n"
               "absmax = blocks.abs().amax(1)\nscaled = torch.nan_to_num(blocks / absmax[:, None])\n"
               "codes = torch.cdist(scaled.reshape(-1, 1), levels.double().reshape(-1, 1)).argmin(1)\n"
               "return codes.to(torch.uint8), absmax.float()",
               "b = codes.numel() // absmax.numel()\nw = levels[codes.long()].float().view(absmax.numel(), b) * absmax.view(-1, 1)\nreturn w.flatten()[:math.prod(shape)].view(shape)"]}},
    "p3": {"multiply_and_add": {"p3_solution": ["c = codes.flatten().to(torch.uint8)\nif len(c) % 2 == 1:\n    c = torch.cat([c, torch.zeros(1, dtype=torch.uint8)])\n"
                                                "pairs = c.view(-1, 2)\nreturn (pairs[:, 0] * 16 + pairs[:, 1]).to(torch.uint8)",
                                                "hi = torch.div(packed, 16, rounding_mode='floor')\nlo = packed % 16\nreturn torch.stack([hi, lo], 1).flatten()[:n].to(torch.uint8)"]},
           "python_loop": {"p3_solution": ["vals = [int(v) for v in codes.flatten().tolist()]\nif len(vals) % 2: vals.append(0)\n"
                                           "return torch.tensor([(vals[i] << 4) | vals[i + 1] for i in range(0, len(vals), 2)], dtype=torch.uint8)",
                                           "out = []\nfor b in packed.tolist():\n    out += [b >> 4, b & 15]\nreturn torch.tensor(out[:n], dtype=torch.uint8)"]},
           "bitwise_ops": {"p3_solution": [_PK.replace("(c[0::2] << 4) | c[1::2]", "torch.bitwise_or(torch.bitwise_left_shift(c[0::2], 4), c[1::2])"),
                                           "out = torch.empty(packed.numel() * 2, dtype=torch.uint8)\nout[0::2] = torch.bitwise_right_shift(packed, 4)\n"
                                           "out[1::2] = torch.bitwise_and(packed, 15)\nreturn out[:n]"]}},
    "p4": {"integer_arithmetic": {"p4_solution": "blocks = -(-numel // blocksize)\nif not double_quant:\n    return (numel + 1) // 2 + 4 * blocks\n"
                                                 "groups = (blocks + dq_blocksize - 1) // dq_blocksize\nreturn (numel + 1) // 2 + blocks + 4 * groups + 4"},
           "bits_then_bytes": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nbits = 4 * numel + (8 * n_blocks + 32 * math.ceil(n_blocks / dq_blocksize) + 32 if double_quant else 32 * n_blocks)\n"
                                              "return int((4 * numel + 7) // 8 + (bits - 4 * numel) // 8)"}},
    "p5": {"matmul_float64_base": {"p5_solution": "dt = A.dtype\nW = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(dt)\nxx = x.to(dt)\n"
                                                  "y = xx @ W.T + ((xx @ A.T) @ B.T) * (alpha / A.shape[0])\nreturn y if bias is None else y + bias.to(dt)"},
           "einsum": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).type(A.dtype)\nxx = x.type(A.dtype)\n"
                                     "h = torch.einsum('...k,rk->...r', xx, A)\nout = torch.einsum('...k,dk->...d', xx, W) + alpha / A.shape[0] * torch.einsum('...r,dr->...d', h, B)\n"
                                     "return out + bias.type(A.dtype) if bias is not None else out"}},
}

# Written after the probes, as a held-out check (all accepted before any probe changed): clipping the scaled
# gradients to max_norm * scale and float32 quantiles are equivalent to the specification, not mistakes.
HELD_OUT = {'p4': {'single_expression': {'p4_solution': 'nb_ = -(-numel // blocksize)\n'
                                             'return -(-numel // 2) + (nb_ + 4 * -(-nb_ // dq_blocksize) + 4 if double_quant else 4 * nb_)'}},
 'p1': {'float32_linspace': {'p1_solution': 'pos = torch.special.ndtri(torch.linspace(delta, 0.5, 9)[:-1])\n'
                                            'neg = -torch.special.ndtri(torch.linspace(delta, 0.5, 8)[:-1])\n'
                                            'v = torch.cat([neg, torch.zeros(1), pos])\n'
                                            'return (v / v.abs().max()).sort().values'}}}
for _part, _vs in HELD_OUT.items(): RIGHT.setdefault(_part, {}).update(_vs)

MORE = {
    "p5": {"merged_base_then_adapter_loop": {"p5_solution": "dt = A.dtype\nW = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(dt)\n"
                                                            "xx = x.to(dt)\nh = xx @ A.T\nupdate = sum(h[..., i:i + 1] * B[:, i] for i in range(A.shape[0]))\n"
                                                            "out = F.linear(xx, W) + update * (alpha / A.shape[0])\nreturn out if bias is None else out + bias.to(dt)"}},
}
for _part, _vs in MORE.items(): RIGHT.setdefault(_part, {}).update(_vs)
