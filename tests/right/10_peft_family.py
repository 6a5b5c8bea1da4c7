"""Correct implementations of assignment 10_peft_family written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

RIGHT = {
    "p1": {"matmul_and_broadcast": {"p1_solution": "need = W.shape[1] if feedforward else W.shape[0]\nif l.dim() != 1 or l.numel() != need:\n    raise ValueError('wrong length')\n"
                                                   "if feedforward:\n    y = (x * l) @ W.T\n    return y if b is None else y + b\n"
                                                   "y = x @ W.T\nif b is not None:\n    y = y + b\nreturn y * l"},
           "scaled_weight": {"p1_solution": "if l.shape != ((W.shape[1],) if feedforward else (W.shape[0],)):\n    raise ValueError('wrong length')\n"
                                            "if feedforward:\n    return torch.nn.functional.linear(x, W * l, b)\n"
                                            "return torch.nn.functional.linear(x, W * l[:, None], None if b is None else b * l)"},
           "einsum": {"p1_solution": "if l.shape != ((W.shape[1],) if feedforward else (W.shape[0],)):\n    raise ValueError('wrong length')\n"
                                     "if feedforward:\n    y = torch.einsum('...k,dk->...d', x * l, W)\n    return y + b if b is not None else y\n"
                                     "y = torch.einsum('...k,dk->...d', x, W)\nreturn (y + b) * l if b is not None else y * l"}},
    "p2": {"repeat_and_fill": {"p2_solution": "B, T, h = inputs_embeds.shape\nn = prompt.shape[0]\nif prompt.shape[1] != h:\n    raise ValueError('width')\n"
                                              "e = torch.cat([prompt.unsqueeze(0).repeat(B, 1, 1).to(inputs_embeds.dtype), inputs_embeds], dim=1)\n"
                                              "m = torch.cat([torch.ones((B, n), dtype=attention_mask.dtype), attention_mask], dim=1)\n"
                                              "t = None\nif token_type_ids is not None:\n    t = torch.cat([torch.zeros((B, n), dtype=token_type_ids.dtype), token_type_ids], dim=1)\n"
                                              "return e, m, t"},
           "preallocate": {"p2_solution": "B, T, h = inputs_embeds.shape\nn = prompt.shape[0]\nif prompt.shape[-1] != h:\n    raise ValueError('width')\n"
                                          "e = torch.stack([torch.cat([prompt.to(inputs_embeds.dtype), inputs_embeds[i]]) for i in range(B)])\n"
                                          "m = attention_mask.new_zeros(B, n + T)\nm[:, :n] = 1\nm[:, n:] = attention_mask\n"
                                          "t = None if token_type_ids is None else torch.nn.functional.pad(token_type_ids, (n, 0), value=0)\nreturn e, m, t"}},
    "p3": {"parameters_by_identity": {"p3_solution": "kinds = (nn.Linear, nn.LayerNorm) if norms else (nn.Linear,)\nkeep = set()\n"
                                                     "for name, m in model.named_modules():\n"
                                                     "    if isinstance(m, kinds) and m.bias is not None:\n        keep.add(id(m.bias))\n"
                                                     "    if name and any(name == t or name.endswith('.' + t) for t in trainable):\n        keep.update(id(p) for p in m.parameters())\n"
                                                     "names = []\nfor n, p in model.named_parameters():\n    p.requires_grad = id(p) in keep\n    if p.requires_grad:\n        names.append(n)\nreturn sorted(names)"},
           "two_passes": {"p3_solution": "model.requires_grad_(False)\nfor name, m in model.named_modules():\n"
                                         "    if isinstance(m, nn.Linear) or (norms and isinstance(m, nn.LayerNorm)):\n        if m.bias is not None:\n            m.bias.requires_grad = True\n"
                                         "for name, m in model.named_modules():\n    last = name.split('.')\n"
                                         "    if name and any(name.split('.')[-len(t.split('.')):] == t.split('.') for t in trainable):\n        m.requires_grad_(True)\n"
                                         "return sorted(n for n, p in model.named_parameters() if p.requires_grad)"}},
    "p4": {"if_chain": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                       "if method == 'lora':\n    return 2 * L * r * (2 * h)\nif method == 'ia3':\n    return L * (h + h + h + f)\n"
                                       "if method == 'bitfit':\n    return L * (4 * h + f + h)\nif method == 'prompt':\n    return n * h\n"
                                       "if method == 'prefix':\n    return L * n * h * 2\nif method == 'ln':\n    return 2 * h * (2 * L + 1)\nraise ValueError(f'unknown {method}')"}},
    "p5": {"bias_first": {"p5_solution": "class IA3Linear(BuggyIA3Linear):\n    @torch.no_grad()\n    def merge(self):\n        if self.merged:\n            return\n"
                                         "        if not self.feedforward and self.base.bias is not None:\n            self.base.bias.copy_(self.base.bias * self.ia3_l)\n"
                                         "        w = self.base.weight * (self.ia3_l[None, :] if self.feedforward else self.ia3_l[:, None])\n"
                                         "        self.base.weight.copy_(w)\n        self.merged = True"}},
}
