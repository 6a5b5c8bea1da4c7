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

# Mistakes the specification invites: each must lose points on its part.
_Q = ("flat = x.reshape(-1).float()\nblocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\n"
      "absmax = {absmax}\nscaled = blocks / absmax.clamp(min=1e-30)[:, None]\ncodes = (scaled[..., None] - levels.float()).abs().argmin(-1)\n"
      "return codes.to({dtype}).reshape(-1), absmax")
_DQ = ("blocksize = codes.numel() // absmax.numel()\nvals = levels.float()[codes.long()].reshape(-1, blocksize) * absmax[:, None]\n"
       "return vals.reshape(-1)[:math.prod(shape)].reshape(shape)")
_NF4 = ("pos = torch.special.ndtri(torch.linspace(delta, 0.5, {p})[{ps}].double())\nneg = -torch.special.ndtri(torch.linspace(delta, 0.5, {n})[{ns}].double())\n"
        "v = torch.cat([neg, torch.zeros(1, dtype=torch.float64), pos])\nreturn (v / v.abs().max()).sort().values.{cast}")
_PK = "c = codes.reshape(-1).to(torch.uint8)\nif c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\nreturn (c[0::2] << 4) | c[1::2]"
_UPK = "return torch.stack([packed >> 4, packed & 0x0F], dim=-1).reshape(-1)[:n]"
_QL = ("W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\n"
       "return F.linear(x, W, None if bias is None else bias.to(A.dtype)) + {scale} * F.linear(F.linear(x, A), B)")
MORE = {
    "p1": {"quantiles_exclude_delta": {"p1_solution": _NF4.format(p=9, ps="1:", n=8, ns="1:", cast="float()")},
           "seven_positive": {"p1_solution": _NF4.format(p=8, ps=":-1", n=9, ns=":-1", cast="float()")},
           "float64_levels": {"p1_solution": _NF4.format(p=9, ps=":-1", n=8, ns=":-1", cast="clone()")},
           "mirrored": {"p1_solution": "pos = -torch.special.ndtri(torch.linspace(delta, 0.5, 9, dtype=torch.float64)[:-1])\n"
                                       "neg = torch.special.ndtri(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])\n"
                                       "v = torch.cat([neg, torch.zeros(1, dtype=torch.float64), pos])\nreturn (v / v.abs().max()).sort().values.float()"}},
    "p2": {"max_not_absmax": {"p2_solution": [_Q.format(absmax="blocks.amax(1)", dtype="torch.uint8"), _DQ]},
           "int64_codes": {"p2_solution": [_Q.format(absmax="blocks.abs().amax(1)", dtype="torch.long"), _DQ]},
           "per_row_absmax": {"p2_solution": ["flat = x.float()\nm = flat.abs().amax(-1, keepdim=True).expand_as(flat).reshape(-1)\n"
                                              "blocks_m = F.pad(m, (0, (-m.numel()) % blocksize)).reshape(-1, blocksize)\n"
                                              "blocks = F.pad(flat.reshape(-1), (0, (-m.numel()) % blocksize)).reshape(-1, blocksize)\n"
                                              "absmax = blocks.abs().amax(1)\nscaled = blocks / blocks_m.clamp(min=1e-30)\n"
                                              "codes = (scaled[..., None] - levels.float()).abs().argmin(-1)\nreturn codes.to(torch.uint8).reshape(-1), absmax", _DQ]},
           "dequantize_keeps_padding": {"p2_solution": [_Q.format(absmax="blocks.abs().amax(1)", dtype="torch.uint8"),
                                                        "blocksize = codes.numel() // absmax.numel()\nreturn (levels.float()[codes.long()].reshape(-1, blocksize) * absmax[:, None]).reshape(-1)"]},
           "dequantize_fixed_blocksize": {"p2_solution": [_Q.format(absmax="blocks.abs().amax(1)", dtype="torch.uint8"),
                                                          "vals = levels.float()[codes.long()].reshape(-1, 64) * absmax[:, None]\nreturn vals.reshape(-1)[:math.prod(shape)].reshape(shape)"]},
           "float64_dequantized": {"p2_solution": [_Q.format(absmax="blocks.abs().amax(1)", dtype="torch.uint8"),
                                                   "blocksize = codes.numel() // absmax.numel()\nvals = levels.double()[codes.long()].reshape(-1, blocksize) * absmax.double()[:, None]\n"
                                                   "return vals.reshape(-1)[:math.prod(shape)].reshape(shape)"]}},
    "p3": {"int64_result": {"p3_solution": ["c = codes.reshape(-1).long()\nif c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\nreturn (c[0::2] << 4) | c[1::2]", _UPK]},
           "pads_at_front": {"p3_solution": ["c = codes.reshape(-1).to(torch.uint8)\nif c.numel() % 2: c = torch.cat([c.new_zeros(1), c])\nreturn (c[0::2] << 4) | c[1::2]", _UPK]},
           "unpack_ignores_n": {"p3_solution": [_PK, "return torch.stack([packed >> 4, packed & 0x0F], dim=-1).reshape(-1)"]},
           "no_flatten": {"p3_solution": ["c = codes.to(torch.uint8)\nif c.shape[-1] % 2: c = torch.cat([c, c.new_zeros(*c.shape[:-1], 1)], -1)\nreturn ((c[..., 0::2] << 4) | c[..., 1::2])", _UPK]}},
    "p4": {"rounded_codes": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 4 * math.ceil(n_blocks / dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn round(numel / 2) + consts"},
           "fp16_second_scale": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 2 * math.ceil(n_blocks / dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn math.ceil(numel / 2) + consts"},
           "float_result": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 4 * math.ceil(n_blocks / dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn numel / 2 + consts"},
           "groups_of_values": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 4 * math.ceil(numel / dq_blocksize) + 4 if double_quant else 4 * n_blocks\nreturn math.ceil(numel / 2) + consts"},
           "absmax_one_byte_always": {"p4_solution": "n_blocks = math.ceil(numel / blocksize)\nconsts = n_blocks + 4 * math.ceil(n_blocks / dq_blocksize) + 4 if double_quant else n_blocks\nreturn math.ceil(numel / 2) + consts"}},
    "p5": {"floor_division": {"p5_solution": _QL.format(scale="(alpha // A.shape[0])")},
           "forms_BA": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\n"
                                       "return F.linear(x, W + (alpha / A.shape[0]) * B @ A, None if bias is None else bias.to(A.dtype))"},
           "transposed_weight": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (A.shape[1], B.shape[0])).to(A.dtype)\nx = x.to(A.dtype)\n"
                                                "return x @ W + (0 if bias is None else bias.to(A.dtype)) + (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)"},
           "x_dtype_kept": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(x.dtype)\n"
                                           "return F.linear(x, W, bias if bias is None else bias.to(x.dtype)) + ((alpha / A.shape[0]) * F.linear(F.linear(x.to(A.dtype), A), B)).to(x.dtype)"},
           "detached_adapter": {"p5_solution": "W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\nx = x.to(A.dtype)\n"
                                               "with torch.no_grad():\n    lora = (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)\n"
                                               "return F.linear(x, W, None if bias is None else bias.to(A.dtype)) + lora"}},
}
for _part, _vs in MORE.items(): WRONG[_part].update(_vs)

# Written after the probes, as a held-out check of how they generalise (all caught before any probe changed).
HELD_OUT = {'p1': {'zero_missing_extra_pos': {'p1_solution': 'pos = torch.special.ndtri(torch.linspace(delta, 0.5, 10, dtype=torch.float64)[:-1])\n'
                                                  'neg = -torch.special.ndtri(torch.linspace(delta, 0.5, 8, dtype=torch.float64)[:-1])\n'
                                                  'v = torch.cat([neg, pos])\n'
                                                  'return (v / v.abs().max()).sort().values.float()'}},
 'p2': {'uniform_rounding': {'p2_solution': ['flat = x.reshape(-1).float()\n'
                                             'blocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\n'
                                             'absmax = blocks.abs().amax(1)\n'
                                             'scaled = blocks / absmax.clamp(min=1e-30)[:, None]\n'
                                             'codes = ((scaled + 1) / 2 * (len(levels) - 1)).round().clamp(0, len(levels) - 1)\n'
                                             'return codes.to(torch.uint8).reshape(-1), absmax',
                                             'blocksize = codes.numel() // absmax.numel()\n'
                                             'vals = levels.float()[codes.long()].reshape(-1, blocksize) * absmax[:, None]\n'
                                             'return vals.reshape(-1)[:math.prod(shape)].reshape(shape)']},
        'absmax_float64': {'p2_solution': ['flat = x.reshape(-1).double()\n'
                                           'blocks = F.pad(flat, (0, (-flat.numel()) % blocksize)).reshape(-1, blocksize)\n'
                                           'absmax = blocks.abs().amax(1)\n'
                                           'scaled = blocks / absmax.clamp(min=1e-30)[:, None]\n'
                                           'codes = (scaled[..., None] - levels.double()).abs().argmin(-1)\n'
                                           'return codes.to(torch.uint8).reshape(-1), absmax',
                                           'blocksize = codes.numel() // absmax.numel()\n'
                                           'vals = levels.float()[codes.long()].reshape(-1, blocksize) * absmax[:, None]\n'
                                           'return vals.reshape(-1)[:math.prod(shape)].reshape(shape)']}},
 'p3': {'unpack_swapped': {'p3_solution': ['c = codes.reshape(-1).to(torch.uint8)\n'
                                           'if c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\n'
                                           'return (c[0::2] << 4) | c[1::2]',
                                           'return torch.stack([packed & 0x0F, packed >> 4], dim=-1).reshape(-1)[:n]']},
        'pack_int8': {'p3_solution': ['c = codes.reshape(-1).to(torch.int16)\n'
                                      'if c.numel() % 2: c = torch.cat([c, c.new_zeros(1)])\n'
                                      'return ((c[0::2] << 4) | c[1::2]).to(torch.int8)',
                                      'return torch.stack([packed >> 4, packed & 0x0F], dim=-1).reshape(-1)[:n]']}},
 'p4': {'no_double_quant_bytes_as_dq': {'p4_solution': 'n_blocks = math.ceil(numel / blocksize)\n'
                                                       'return math.ceil(numel / 2) + n_blocks + 4 * math.ceil(n_blocks / dq_blocksize) + 4'},
        'floor_groups': {'p4_solution': 'n_blocks = math.ceil(numel / blocksize)\n'
                                        'consts = n_blocks + 4 * (n_blocks // dq_blocksize) + 4 if double_quant else 4 * n_blocks\n'
                                        'return math.ceil(numel / 2) + consts'}},
 'p5': {'bias_not_converted': {'p5_solution': 'W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\n'
                                              'x = x.to(A.dtype)\n'
                                              'return F.linear(x, W, bias) + (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)'},
        'scale_by_out': {'p5_solution': 'W = dequantize_blockwise(codes, absmax, levels, (B.shape[0], A.shape[1])).to(A.dtype)\n'
                                        'x = x.to(A.dtype)\n'
                                        'return F.linear(x, W, None if bias is None else bias.to(A.dtype)) + (alpha / B.shape[0]) * '
                                        'F.linear(F.linear(x, A), B)'}}}
for _part, _vs in HELD_OUT.items(): WRONG[_part].update(_vs)
