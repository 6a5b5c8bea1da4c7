"""Wrong implementations of assignment 13_beyond_text, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_CHECK = "n, c, h, w = images.shape\nif patch < 1 or h % patch or w % patch:\n    raise ValueError('patch')\n"
_EMBED = "return F.linear(patchify(images, weight.shape[-1]), weight.flatten(1), bias)"
_SHIFT = ("n, c, h, w = images.shape\nout = torch.zeros_like(images)\nfor i in range(n):\n    y, x = int(dy[i]), int(dx[i])\n"
          "    if abs(y) >= h or abs(x) >= w:\n        continue\n"
          "    out[i, :, max(y, 0):h + min(y, 0), max(x, 0):w + min(x, 0)] = images[i, :, max(-y, 0):h - max(y, 0), max(-x, 0):w - max(x, 0)]\nreturn out")
_MASK = ("rows = torch.arange(h).view(1, h, 1) + dy.view(-1, 1, 1)\ncols = torch.arange(w).view(1, 1, w) + dx.view(-1, 1, 1)\n"
         "return (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)")
_MERGE = "return weight + ((alpha / A.shape[0]) * B @ A).reshape(weight.shape)"
_PRE = ("def preprocess(images, size, mean, std):\n"
        "    x = F.interpolate(images, size=(size, size), mode='bilinear', align_corners=False, antialias=True).clamp(0, 1)\n"
        "    x = x.repeat(1, 3, 1, 1)\n")

WRONG = {
    "p1": {"channels_last_in_patch": {"p1_solution": [_CHECK + "x = images.reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 3, 5, 1)\n"
                                                      "return x.reshape(n, -1, c * patch * patch)", _EMBED]},
           "column_major_patches": {"p1_solution": [_CHECK + "x = images.reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 4, 2, 1, 3, 5)\n"
                                                    "return x.reshape(n, -1, c * patch * patch)", _EMBED]},
           "plain_reshape": {"p1_solution": [_CHECK + "return images.reshape(n, (h // patch) * (w // patch), c * patch * patch)", _EMBED]},
           "no_divisibility_check": {"p1_solution": ["n, c, h, w = images.shape\nh2, w2 = h // patch * patch, w // patch * patch\n"
                                                     "x = images[:, :, :h2, :w2].reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)\n"
                                                     "return x.reshape(n, -1, c * patch * patch)", _EMBED]},
           "casts_to_float": {"p1_solution": [_CHECK + "x = images.float().reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)\n"
                                              "return x.reshape(n, -1, c * patch * patch)", _EMBED]},
           "embed_drops_bias": {"p1_solution": [_CHECK + "x = images.reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)\n"
                                                "return x.reshape(n, -1, c * patch * patch)", "return patchify(images, weight.shape[-1]) @ weight.flatten(1).T"]},
           "embed_weight_not_transposed": {"p1_solution": [_CHECK + "x = images.reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)\n"
                                                           "return x.reshape(n, -1, c * patch * patch)",
                                                           "W = weight.permute(0, 2, 3, 1).flatten(1)\nreturn F.linear(patchify(images, weight.shape[-1]), W, bias)"]}},
    "p2": {"scale_alpha": {"p2_solution": ["return F.conv2d(x, weight + alpha * (B @ A).reshape(weight.shape), bias, stride, padding)", "return weight + (alpha * B @ A).reshape(weight.shape)"]},
           "scale_r_over_alpha": {"p2_solution": ["return F.conv2d(x, weight + (A.shape[0] / alpha) * (B @ A).reshape(weight.shape), bias, stride, padding)", _MERGE]},
           "rank_from_B_rows": {"p2_solution": ["return F.conv2d(x, weight + (alpha / B.shape[0]) * (B @ A).reshape(weight.shape), bias, stride, padding)", _MERGE]},
           "lora_path_ignores_stride_cropped": {"p2_solution": ["r, (d, k, kh, kw) = A.shape[0], weight.shape\n"
                                                         "h = F.conv2d(x, A.reshape(r, k, kh, kw), None, 1, padding)\n"
                                                         "y = F.conv2d(h, B.reshape(d, r, 1, 1))\nbase = F.conv2d(x, weight, bias, stride, padding)\n"
                                                         "return base + (alpha / r) * y[..., :base.shape[-2], :base.shape[-1]]", _MERGE]},
           "drops_bias": {"p2_solution": ["return F.conv2d(x, weight + (alpha / A.shape[0]) * (B @ A).reshape(weight.shape), None, stride, padding)", _MERGE]},
           "merge_in_place": {"p2_solution": ["return F.conv2d(x, weight + (alpha / A.shape[0]) * (B @ A).reshape(weight.shape), bias, stride, padding)",
                                              "weight += ((alpha / A.shape[0]) * B @ A).reshape(weight.shape)\nreturn weight"]},
           "A_B_transposed_reshape": {"p2_solution": ["d, k, kh, kw = weight.shape\ndelta = ((alpha / A.shape[0]) * B @ A).reshape(d, kh, kw, k).permute(0, 3, 1, 2)\n"
                                                      "return F.conv2d(x, weight + delta, bias, stride, padding)", _MERGE]}},
    "p3": {"wraps_around": {"p3_solution": ["return torch.stack([torch.roll(images[i], (int(dy[i]), int(dx[i])), dims=(-2, -1)) for i in range(len(images))])", _MASK]},
           "signs_swapped": {"p3_solution": [_SHIFT.replace("y, x = int(dy[i]), int(dx[i])", "y, x = -int(dy[i]), -int(dx[i])"), _MASK]},
           "axes_swapped": {"p3_solution": [_SHIFT.replace("y, x = int(dy[i]), int(dx[i])", "y, x = int(dx[i]), int(dy[i])"), _MASK]},
           "in_place": {"p3_solution": [_SHIFT.replace("out = torch.zeros_like(images)", "src = images.clone()\nout = images\nout.zero_()")
                                        .replace("= images[i, :,", "= src[i, :,"), _MASK]},
           "float_output": {"p3_solution": [_SHIFT.replace("out = torch.zeros_like(images)", "out = torch.zeros(images.shape)"), _MASK]},
           "mask_off_by_one": {"p3_solution": [_SHIFT, _MASK.replace("(rows < h)", "(rows <= h)").replace("(cols < w)", "(cols <= w)")]},
           "mask_sign": {"p3_solution": [_SHIFT, _MASK.replace("+ dy.view", "- dy.view").replace("+ dx.view", "- dx.view")]},
           "no_out_of_frame_guard": {"p3_solution": [_SHIFT.replace("    if abs(y) >= h or abs(x) >= w:\n        continue\n", "").replace(
               "out[i, :, max(y, 0):h + min(y, 0), max(x, 0):w + min(x, 0)] = images[i, :, max(-y, 0):h - max(y, 0), max(-x, 0):w - max(x, 0)]",
               "y, x = max(-h + 1, min(h - 1, y)), max(-w + 1, min(w - 1, x))\n"
               "    out[i, :, max(y, 0):h + min(y, 0), max(x, 0):w + min(x, 0)] = images[i, :, max(-y, 0):h - max(y, 0), max(-x, 0):w - max(x, 0)]"), _MASK]}},
    "p4": {"grouped_convs_too": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                                "    if isinstance(m, (nn.Linear, nn.Conv2d)) and n:\n"
                                                "        parent = model.get_submodule(n.rpartition('.')[0]) if '.' in n else model\n"
                                                "        if inside is None or inside in type(parent).__name__:\n            names.append(n)\nreturn names"},
           "exact_types": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                          "    if (type(m) is nn.Linear or (type(m) is nn.Conv2d and m.groups == 1)) and n:\n"
                                          "        parent = model.get_submodule(n.rpartition('.')[0]) if '.' in n else model\n"
                                          "        if inside is None or inside in type(parent).__name__:\n            names.append(n)\nreturn names"},
           "conv1d_too": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                         "    if (isinstance(m, (nn.Linear, nn.Conv1d)) or (isinstance(m, nn.Conv2d) and m.groups == 1)) and n:\n"
                                         "        parent = model.get_submodule(n.rpartition('.')[0]) if '.' in n else model\n"
                                         "        if inside is None or inside in type(parent).__name__:\n            names.append(n)\nreturn names"},
           "inside_by_name": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                             "    if (isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)) and n:\n"
                                             "        if inside is None or inside.lower() in n.lower():\n            names.append(n)\nreturn names"},
           "any_ancestor": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                           "    if (isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)) and n:\n"
                                           "        parts = n.split('.')\n"
                                           "        ancestors = [model] + [model.get_submodule('.'.join(parts[:i])) for i in range(1, len(parts))]\n"
                                           "        if inside is None or any(inside in type(a).__name__ for a in ancestors):\n            names.append(n)\nreturn names"},
           "suffixes_only": {"p4_solution": "names = []\nfor n, m in model.named_modules():\n"
                                            "    if (isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)) and n:\n"
                                            "        parent = model.get_submodule(n.rpartition('.')[0]) if '.' in n else model\n"
                                            "        if inside is None or inside in type(parent).__name__:\n            names.append(n.rsplit('.', 1)[-1])\nreturn names"}},
    "p5": {"unchanged": {"p5_solution": "preprocess = buggy_preprocess"},
           "imagenet_hardcoded": {"p5_solution": _PRE + "    m = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)\n"
                                                        "    s = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)\n    return (x - m) / s"},
           "per_image_statistics": {"p5_solution": _PRE + "    return (x - x.mean(dim=(1, 2, 3), keepdim=True)) / x.std(dim=(1, 2, 3), keepdim=True)"},
           "mean_std_swapped": {"p5_solution": _PRE + "    return (x - torch.tensor(std).view(1, 3, 1, 1)) / torch.tensor(mean).view(1, 3, 1, 1)"},
           "scalar_statistics": {"p5_solution": _PRE + "    return (x - sum(mean) / 3) / (sum(std) / 3)"},
           "no_antialias": {"p5_solution": "def preprocess(images, size, mean, std):\n"
                                           "    x = F.interpolate(images, size=(size, size), mode='bilinear', align_corners=False).clamp(0, 1).repeat(1, 3, 1, 1)\n"
                                           "    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)"},
           "no_clamp": {"p5_solution": "def preprocess(images, size, mean, std):\n"
                                       "    x = F.interpolate(images, size=(size, size), mode='bicubic', align_corners=False, antialias=True).repeat(1, 3, 1, 1)\n"
                                       "    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)"}},
}
