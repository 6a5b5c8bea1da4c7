"""Wrong implementations of assignment 05_qlora, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

WRONG = {
    "p1": {"evenly_spaced": {"p1_solution": "return torch.linspace(-1, 1, 16)"},
           "symmetric_8_8": {"p1_solution": "q = torch.special.ndtri(torch.linspace(delta, 0.5, 9, dtype=torch.float64)[:-1])\nv = torch.cat([-q, q])\nreturn (v / v.abs().max()).sort().values.float()"},
           "not_normalised": {"p1_solution": "pos = torch.special.ndtri(torch.linspace(delta, 0.5, 9, dtype=torch.float64)[:-1])\nneg = -torch.special.ndtri(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])\nreturn torch.cat([neg, torch.zeros(1, dtype=torch.float64), pos]).sort().values.float()"},
           "ignores_delta": {"p1_solution": "d = 0.5 * (31 / 32 + 29 / 30)\npos = torch.special.ndtri(torch.linspace(d, 0.5, 9, dtype=torch.float64)[:-1])\nneg = -torch.special.ndtri(torch.linspace(d, 0.5, 8, dtype=torch.float64)[:-1])\nv = torch.cat([neg, torch.zeros(1, dtype=torch.float64), pos])\nreturn (v / v.abs().max()).sort().values.float()"}},
    "p2": {"tensor_wide_absmax": {"p2_solution": [
               "flat = x.reshape(-1).float()\nblocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\nm = flat.abs().max()\nabsmax = m.repeat(blocks.shape[0])\ncodes = ((blocks / m)[..., None] - levels.float()).abs().argmin(-1)\nreturn codes.to(torch.uint8).reshape(-1), absmax"]},
           "floor_not_nearest": {"p2_solution": [
               "flat = x.reshape(-1).float()\nblocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\nabsmax = blocks.abs().amax(1)\nscaled = blocks / absmax.clamp(min=1e-30)[:, None]\ncodes = (torch.searchsorted(levels.float().contiguous(), scaled.contiguous(), right=True) - 1).clamp(0, len(levels) - 1)\nreturn codes.to(torch.uint8).reshape(-1), absmax"]},
           "nan_on_zero_block": {"p2_solution": [
               "flat = x.reshape(-1).float()\nblocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\nabsmax = blocks.abs().amax(1)\nscaled = blocks / absmax[:, None]\ncodes = (scaled[..., None] - levels.float()).abs().argmin(-1)\nreturn codes.to(torch.uint8).reshape(-1), absmax"]},
           "no_padding": {"p2_solution": [
               "flat = x.reshape(-1).float()\nn = flat.numel() // blocksize * blocksize\nblocks = flat[:max(n, blocksize)].reshape(-1, blocksize)\nabsmax = blocks.abs().amax(1)\nscaled = blocks / absmax.clamp(min=1e-30)[:, None]\ncodes = (scaled[..., None] - levels.float()).abs().argmin(-1)\nreturn codes.to(torch.uint8).reshape(-1), absmax"]}},
    "p3": {"low_nibble_first": {"p3_solution": ["c = codes.reshape(-1).to(torch.uint8)\nif c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\nreturn (c[1::2] << 4) | c[0::2]",
                                                "return torch.stack([packed & 0x0F, packed >> 4], dim=-1).reshape(-1)[:n]"]},
           "no_odd_padding": {"p3_solution": ["c = codes.reshape(-1).to(torch.uint8)\nreturn (c[0::2][:c.numel() // 2] << 4) | c[1::2]"]},
           "adds_instead_of_or_overflow": {"p3_solution": ["c = codes.reshape(-1).to(torch.uint8)\nif c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\nreturn (c[0::2] * 8 + c[1::2]).to(torch.uint8)",
                                                           "return torch.stack([packed // 8, packed % 8], dim=-1).reshape(-1)[:n]"]}},
    "p4": {"codes_only": {"p4_solution": "return math.ceil(numel / 2)"},
           "no_offset_or_scale": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nreturn math.ceil(numel / 2) + (n_blocks if double_quant else 4 * n_blocks)"},
           "bits_not_bytes": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 4 * math.ceil(n_blocks / dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn 4 * numel + consts"},
           "floor_blocks": {"p4_solution": "n_blocks = numel // blocksize\nconsts = n_blocks + 4 * (n_blocks // dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn numel // 2 + consts"}},
    "p5": {"no_scale": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\nreturn F.linear(x, W, None if bias is None else bias.to(A.dtype)) + F.linear(F.linear(x, A), B)"},
           "alpha_only": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\nreturn F.linear(x, W, None if bias is None else bias.to(A.dtype)) + alpha * F.linear(F.linear(x, A), B)"},
           "drops_bias": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\nreturn F.linear(x, W) + (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)"},
           "float_base_dtype": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1]))\nreturn F.linear(x.float(), W, bias) + ((alpha / A.shape[0]) * F.linear(F.linear(x.to(A.dtype), A), B)).float()"}},
}
