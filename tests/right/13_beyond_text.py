"""Correct implementations of assignment 13_beyond_text written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_CHECK = "n, c, h, w = images.shape\nif patch < 1 or h % patch or w % patch:\n    raise ValueError('patch')\n"
_PATCH = _CHECK + ("x = images.reshape(n, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 1, 3, 5)\n"
                   "return x.reshape(n, (h // patch) * (w // patch), c * patch * patch)")
_MASK = ("rows = torch.arange(h).view(1, h, 1) + dy.view(-1, 1, 1)\ncols = torch.arange(w).view(1, 1, w) + dx.view(-1, 1, 1)\n"
         "return (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)")

RIGHT = {
    "p1": {"unfold": {"p1_solution": [_CHECK + "if not images.is_floating_point():\n"
                                                "    return torch.stack([images[:, :, i:i + patch, j:j + patch].reshape(n, -1) for i in range(0, h, patch) for j in range(0, w, patch)], 1)\n"
                                                "return F.unfold(images, patch, stride=patch).transpose(1, 2)",
                                       "return patchify(images, weight.shape[-1]) @ weight.reshape(weight.shape[0], -1).T + (0 if bias is None else bias)"]},
           "loops": {"p1_solution": [_CHECK + "rows = []\nfor i in range(0, h, patch):\n    for j in range(0, w, patch):\n"
                                               "        rows.append(images[:, :, i:i + patch, j:j + patch].reshape(n, -1))\nreturn torch.stack(rows, dim=1)",
                                      "y = torch.einsum('npk,dk->npd', patchify(images, weight.shape[-1]), weight.flatten(1))\nreturn y if bias is None else y + bias"]},
           "conv_for_embed": {"p1_solution": [_PATCH, "return F.conv2d(images, weight, bias, stride=weight.shape[-1]).flatten(2).transpose(1, 2)"]}},
    "p2": {"merged_weight_conv": {"p2_solution": ["return F.conv2d(x, merge_conv_lora(weight, A, B, alpha), bias, stride, padding)",
                                                  "return weight + (alpha / A.shape[0]) * (B @ A).view_as(weight)"]},
           "einsum_delta": {"p2_solution": ["r = A.shape[0]\ndelta = torch.einsum('dr,rk->dk', B, A).reshape(weight.shape) * (alpha / r)\n"
                                            "return F.conv2d(x, weight + delta, bias, stride=stride, padding=padding)",
                                            "return weight.clone().add_(torch.mm(B, A).reshape(weight.shape), alpha=alpha / A.shape[0])"]},
           "stride_by_subsampling": {"p2_solution": ["r, (d, k, kh, kw) = A.shape[0], weight.shape\n"
                                                      "h = F.conv2d(x, A.reshape(r, k, kh, kw), None, 1, padding)[..., ::stride, ::stride]\n"
                                                      "return F.conv2d(x, weight, bias, stride, padding) + (alpha / r) * F.conv2d(h, B.reshape(d, r, 1, 1))",
                                                      "return weight + ((alpha / A.shape[0]) * B @ A).reshape(weight.shape)"]},
           "modules": {"p2_solution": ["d, k, kh, kw = weight.shape\nr = A.shape[0]\n"
                                       "down = nn.Conv2d(k, r, (kh, kw), stride=stride, padding=padding, bias=False).to(x.dtype)\n"
                                       "up = nn.Conv2d(r, d, 1, bias=False).to(x.dtype)\nwith torch.no_grad():\n"
                                       "    down.weight.copy_(A.reshape(r, k, kh, kw)); up.weight.copy_(B.reshape(d, r, 1, 1))\n"
                                       "    return F.conv2d(x, weight, bias, stride, padding) + alpha / r * up(down(x))",
                                       "return weight + ((alpha / A.shape[0]) * B @ A).reshape(weight.shape)"]}},
    "p3": {"roll_then_mask": {"p3_solution": ["n, c, h, w = images.shape\nout = torch.zeros_like(images)\n"
                                              "for i in range(n):\n    y, x = int(dy[i]), int(dx[i])\n    if abs(y) >= h or abs(x) >= w:\n        continue\n"
                                              "    rolled = torch.roll(images[i], (y, x), dims=(-2, -1))\n"
                                              "    keep = torch.zeros(h, w, dtype=torch.bool)\n"
                                              "    keep[max(y, 0):h + min(y, 0), max(x, 0):w + min(x, 0)] = True\n"
                                              "    out[i] = torch.where(keep, rolled, torch.zeros_like(rolled))\nreturn out",
                                              "ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')\n"
                                              "ty, tx = ys[None] + dy[:, None, None], xs[None] + dx[:, None, None]\n"
                                              "return (0 <= ty) & (ty < h) & (0 <= tx) & (tx < w)"]},
           "gather": {"p3_solution": ["n, c, h, w = images.shape\nys = torch.arange(h).view(1, h, 1) - dy.view(-1, 1, 1)\n"
                                      "xs = torch.arange(w).view(1, 1, w) - dx.view(-1, 1, 1)\n"
                                      "valid = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)\n"
                                      "flat = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)\n"
                                      "picked = images.reshape(n, c, h * w).gather(2, flat).view(n, c, h, w)\n"
                                      "return torch.where(valid.unsqueeze(1), picked, torch.zeros_like(picked))", _MASK]},
           "pad_and_crop": {"p3_solution": ["n, c, h, w = images.shape\nout = torch.zeros_like(images)\n"
                                            "padded = F.pad(images.double(), (w, w, h, h)).to(images.dtype)\n"
                                            "for i in range(n):\n    y, x = max(-h, min(h, int(dy[i]))), max(-w, min(w, int(dx[i])))\n"
                                            "    out[i] = padded[i, :, h - y:2 * h - y, w - x:2 * w - x]\nreturn out", _MASK]}},
    "p4": {"named_modules_parent_lookup": {"p4_solution": "found = []\nfor name, m in model.named_modules():\n    if not name:\n        continue\n"
                                                          "    if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1):\n"
                                                          "        parent = model.get_submodule(name.rpartition('.')[0])\n"
                                                          "        if inside is None or inside in parent.__class__.__name__:\n            found.append(name)\nreturn found"},
           "recursive": {"p4_solution": "def walk(module, prefix):\n    for child_name, child in module.named_children():\n"
                                        "        full = prefix + child_name\n"
                                        "        ok = isinstance(child, nn.Linear) or (isinstance(child, nn.Conv2d) and child.groups == 1)\n"
                                        "        if ok and (inside is None or inside in type(module).__name__):\n            yield full\n"
                                        "        yield from walk(child, full + '.')\nreturn sorted(set(walk(model, '')))"}},
    "p5": {"expand_and_view": {"p5_solution": "def preprocess(images, size, mean, std):\n"
                                              "    x = F.interpolate(images, size=(size, size), mode='bilinear', align_corners=False, antialias=True).clamp(0, 1)\n"
                                              "    x = x.expand(-1, 3, -1, -1)\n"
                                              "    return (x - x.new_tensor(mean)[None, :, None, None]) / x.new_tensor(std)[None, :, None, None]"},
           "per_channel_loop": {"p5_solution": "def preprocess(images, size, mean, std):\n"
                                               "    g = F.interpolate(images, size=(size, size), mode='bilinear', align_corners=False, antialias=True).clamp(0.0, 1.0)\n"
                                               "    return torch.cat([(g - mean[c]) / std[c] for c in range(3)], dim=1)"}},
}
