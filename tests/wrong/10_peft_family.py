"""Wrong implementations of assignment 10_peft_family, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_CHECK = "size = W.shape[1] if feedforward else W.shape[0]\nif l.shape != (size,):\n    raise ValueError('length')\n"
_P2 = "B, n = inputs_embeds.shape[0], prompt.shape[0]\n"
_BUGGY_FIXED_ELSEWHERE = """class IA3Linear(BuggyIA3Linear):
    @torch.no_grad()
    def merge(self):
        if self.merged:
            return
        if self.feedforward:
            self.base.weight.mul_(self.ia3_l[None, :])
            if self.base.bias is not None:
                self.base.bias.mul_(self.ia3_l[: self.base.bias.shape[0]])
        else:
            self.base.weight.mul_(self.ia3_l[:, None])
        self.merged = True"""

WRONG = {
    "p1": {"bias_not_scaled": {"p1_solution": _CHECK + "return torch.nn.functional.linear(x, W) * l + (0 if b is None else b) if not feedforward else torch.nn.functional.linear(x * l, W, b)"},
           "input_scaling_everywhere": {"p1_solution": "if l.shape[0] != W.shape[1]:\n    raise ValueError('length')\nreturn torch.nn.functional.linear(x * l, W, b)"},
           "bias_scaled_in_feedforward": {"p1_solution": _CHECK + "return torch.nn.functional.linear(x * l, W) + (0 if b is None else b * l[: W.shape[0]]) if feedforward else torch.nn.functional.linear(x, W, b) * l"},
           "no_length_check": {"p1_solution": "return torch.nn.functional.linear(x * l, W, b) if feedforward else torch.nn.functional.linear(x, W, b) * l"},
           "scales_x_in_place": {"p1_solution": _CHECK + "if feedforward:\n    x.mul_(l)\n    return torch.nn.functional.linear(x, W, b)\nreturn torch.nn.functional.linear(x, W, b) * l"},
           "float32_output": {"p1_solution": _CHECK + "x, W, l = x.float(), W.float(), l.float()\nb = None if b is None else b.float()\n"
                                                      "return torch.nn.functional.linear(x * l, W, b) if feedforward else torch.nn.functional.linear(x, W, b) * l"},
           "detached_vector": {"p1_solution": _CHECK + "l = l.detach()\nreturn torch.nn.functional.linear(x * l, W, b) if feedforward else torch.nn.functional.linear(x, W, b) * l"}},
    "p2": {"prompt_last": {"p2_solution": _P2 + "e = torch.cat([inputs_embeds, prompt.to(inputs_embeds.dtype).expand(B, -1, -1)], 1)\n"
                                              "m = torch.cat([attention_mask, attention_mask.new_ones(B, n)], 1)\n"
                                              "t = None if token_type_ids is None else torch.cat([token_type_ids, token_type_ids.new_zeros(B, n)], 1)\nreturn e, m, t"},
           "prompt_masked_out": {"p2_solution": _P2 + "e = torch.cat([prompt.to(inputs_embeds.dtype).expand(B, -1, -1), inputs_embeds], 1)\n"
                                                    "m = torch.cat([attention_mask.new_zeros(B, n), attention_mask], 1)\n"
                                                    "t = None if token_type_ids is None else torch.cat([token_type_ids.new_zeros(B, n), token_type_ids], 1)\nreturn e, m, t"},
           "mask_as_float": {"p2_solution": _P2 + "e = torch.cat([prompt.to(inputs_embeds.dtype).expand(B, -1, -1), inputs_embeds], 1)\n"
                                                "m = torch.cat([torch.ones(B, n), attention_mask.float()], 1)\n"
                                                "t = None if token_type_ids is None else torch.cat([token_type_ids.new_zeros(B, n), token_type_ids], 1)\nreturn e, m, t"},
           "types_ones": {"p2_solution": _P2 + "e = torch.cat([prompt.to(inputs_embeds.dtype).expand(B, -1, -1), inputs_embeds], 1)\n"
                                             "m = torch.cat([attention_mask.new_ones(B, n), attention_mask], 1)\n"
                                             "t = None if token_type_ids is None else torch.cat([token_type_ids.new_ones(B, n), token_type_ids], 1)\nreturn e, m, t"},
           "prompt_detached": {"p2_solution": _P2 + "e = torch.cat([prompt.detach().to(inputs_embeds.dtype).expand(B, -1, -1), inputs_embeds], 1)\n"
                                                  "m = torch.cat([attention_mask.new_ones(B, n), attention_mask], 1)\n"
                                                  "t = None if token_type_ids is None else torch.cat([token_type_ids.new_zeros(B, n), token_type_ids], 1)\nreturn e, m, t"},
           "prompt_dtype_kept": {"p2_solution": _P2 + "e = torch.cat([prompt.expand(B, -1, -1), inputs_embeds.to(prompt.dtype)], 1)\n"
                                                    "m = torch.cat([attention_mask.new_ones(B, n), attention_mask], 1)\n"
                                                    "t = None if token_type_ids is None else torch.cat([token_type_ids.new_zeros(B, n), token_type_ids], 1)\nreturn e, m, t"},
           "no_width_check": {"p2_solution": _P2 + "e = torch.cat([prompt.to(inputs_embeds.dtype).expand(B, -1, -1)[..., : inputs_embeds.shape[-1]], inputs_embeds], 1)\n"
                                                 "m = torch.cat([attention_mask.new_ones(B, n), attention_mask], 1)\n"
                                                 "t = None if token_type_ids is None else torch.cat([token_type_ids.new_zeros(B, n), token_type_ids], 1)\nreturn e, m, t"}},
    "p3": {"by_name": {"p3_solution": "for n, p in model.named_parameters():\n"
                                      "    mod = n.rpartition('.')[0]\n"
                                      "    p.requires_grad_(n.endswith('bias') and (norms or 'norm' not in n) or any(mod == t or mod.endswith('.' + t) or ('.' + t + '.') in ('.' + mod + '.') for t in trainable))\n"
                                      "return sorted(n for n, p in model.named_parameters() if p.requires_grad)"},
           "head_frozen": {"p3_solution": "kinds = (nn.Linear, nn.LayerNorm) if norms else (nn.Linear,)\nkeep = set()\n"
                                          "for name, m in model.named_modules():\n"
                                          "    if isinstance(m, kinds) and getattr(m, 'bias', None) is not None:\n        keep.add((name + '.' if name else '') + 'bias')\n"
                                          "for n, p in model.named_parameters():\n    p.requires_grad_(n in keep)\nreturn sorted(keep)"},
           "substring_match": {"p3_solution": "kinds = (nn.Linear, nn.LayerNorm) if norms else (nn.Linear,)\nkeep = set()\n"
                                              "for name, m in model.named_modules():\n    pre = name + '.' if name else ''\n"
                                              "    if isinstance(m, kinds) and getattr(m, 'bias', None) is not None:\n        keep.add(pre + 'bias')\n"
                                              "    if name and any(t in name for t in trainable):\n        keep.update(pre + n for n, _ in m.named_parameters())\n"
                                              "for n, p in model.named_parameters():\n    p.requires_grad_(n in keep)\nreturn sorted(keep)"},
           "only_adds": {"p3_solution": "kinds = (nn.Linear, nn.LayerNorm) if norms else (nn.Linear,)\n"
                                        "for name, m in model.named_modules():\n"
                                        "    if isinstance(m, kinds) and getattr(m, 'bias', None) is not None:\n        m.bias.requires_grad_(True)\n"
                                        "    if name and any(name == t or name.endswith('.' + t) for t in trainable):\n"
                                        "        for p in m.parameters():\n            p.requires_grad_(True)\n"
                                        "return sorted(n for n, p in model.named_parameters() if p.requires_grad)"},
           "norms_always": {"p3_solution": "keep = set()\n"
                                           "for name, m in model.named_modules():\n    pre = name + '.' if name else ''\n"
                                           "    if isinstance(m, (nn.Linear, nn.LayerNorm)) and getattr(m, 'bias', None) is not None:\n        keep.add(pre + 'bias')\n"
                                           "    if name and any(name == t or name.endswith('.' + t) for t in trainable):\n        keep.update(pre + n for n, _ in m.named_parameters())\n"
                                           "for n, p in model.named_parameters():\n    p.requires_grad_(n in keep)\nreturn sorted(keep)"},
           "unsorted": {"p3_solution": "kinds = (nn.Linear, nn.LayerNorm) if norms else (nn.Linear,)\nkeep = set()\n"
                                       "for name, m in model.named_modules():\n    pre = name + '.' if name else ''\n"
                                       "    if isinstance(m, kinds) and getattr(m, 'bias', None) is not None:\n        keep.add(pre + 'bias')\n"
                                       "    if name and any(name == t or name.endswith('.' + t) for t in trainable):\n        keep.update(pre + n for n, _ in m.named_parameters())\n"
                                       "for n, p in model.named_parameters():\n    p.requires_grad_(n in keep)\nreturn [n for n, p in model.named_parameters() if p.requires_grad]"}},
    "p4": {"prefix_keys_only": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                              "c = {'lora': L * 4 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                              "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "ia3_three_vectors": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                                "c = {'lora': L * 4 * r * h, 'ia3': L * (2 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                                "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "ln_no_embedding_norm": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                                   "c = {'lora': L * 4 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': 2 * L * 2 * h}\n"
                                                   "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "lora_one_projection": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                                  "c = {'lora': L * 2 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                                  "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "bitfit_square_ffn": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                                "c = {'lora': L * 4 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * 6 * h, 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                                "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "prompt_per_layer": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                               "c = {'lora': L * 4 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': L * n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                               "if method not in c:\n    raise ValueError(method)\nreturn c[method]"},
           "unknown_is_zero": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                              "c = {'lora': L * 4 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                              "return c.get(method.lower(), 0)"},
           "float_count": {"p4_solution": "h, f, L, n = hidden, intermediate, layers, num_virtual_tokens\n"
                                          "c = {'lora': L * 4.0 * r * h, 'ia3': L * (3 * h + f), 'bitfit': L * (5 * h + f), 'prompt': n * h, 'prefix': 2 * L * n * h, 'ln': (2 * L + 1) * 2 * h}\n"
                                          "if method not in c:\n    raise ValueError(method)\nreturn c[method]"}},
    "p5": {"unchanged": {"p5_solution": "IA3Linear = BuggyIA3Linear"},
           "bias_scaled_everywhere": {"p5_solution": _BUGGY_FIXED_ELSEWHERE},
           "merge_by_division": {"p5_solution": "class IA3Linear(BuggyIA3Linear):\n    @torch.no_grad()\n    def merge(self):\n        if self.merged:\n            return\n"
                                                "        if self.feedforward:\n            self.base.weight.div_(self.ia3_l[None, :])\n"
                                                "        else:\n            self.base.weight.mul_(self.ia3_l[:, None])\n"
                                                "            if self.base.bias is not None:\n                self.base.bias.mul_(self.ia3_l)\n        self.merged = True"},
           "not_idempotent": {"p5_solution": "class IA3Linear(BuggyIA3Linear):\n    @torch.no_grad()\n    def merge(self):\n"
                                             "        if self.feedforward:\n            self.base.weight.mul_(self.ia3_l[None, :])\n"
                                             "        else:\n            self.base.weight.mul_(self.ia3_l[:, None])\n"
                                             "            if self.base.bias is not None:\n                self.base.bias.mul_(self.ia3_l)\n        self.merged = True"},
           "forward_fixed_instead": {"p5_solution": "class IA3Linear(BuggyIA3Linear):\n    def forward(self, x):\n"
                                                    "        if self.merged:\n            return self.base(x) * (1 if self.feedforward or self.base.bias is None else 1)\n"
                                                    "        return self.base(x * self.ia3_l) if self.feedforward else torch.nn.functional.linear(x, self.base.weight) * self.ia3_l + (0 if self.base.bias is None else self.base.bias)"}},
}
