"""Wrong implementations of assignment 04_lora, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

WRONG = {
    "p1": {"no_1_over_r": {"p1_solution": "return alpha * B @ A"},
           "divides_by_k": {"p1_solution": "return (alpha / A.shape[1]) * B @ A"},
           "r_over_alpha": {"p1_solution": "return (A.shape[0] / alpha) * B @ A"},
           "count_dk": {"p1_solution": ["return (alpha / A.shape[0]) * B @ A", "return d * k"]}},
    "p2": {"b_random": {"p2_solution": "A = (torch.rand(r, in_features, generator=generator) * 2 - 1) / math.sqrt(in_features)\nreturn A, torch.randn(out_features, r) * 0.01"},
           "swapped": {"p2_solution": "return torch.zeros(r, in_features), torch.randn(out_features, r, generator=generator)"},
           "normal_std1": {"p2_solution": "return torch.randn(r, in_features, generator=generator), torch.zeros(out_features, r)"},
           "no_rank_check": {"p2_solution": "bound = 1 / math.sqrt(in_features)\nreturn (torch.rand(max(r, 1), in_features, generator=generator) * 2 - 1) * bound, torch.zeros(out_features, max(r, 1))"}},
    "p3": {"forms_BA": {"p3_solution": "return F.linear(x, W + (alpha / A.shape[0]) * B @ A, b)"},
           "no_scale": {"p3_solution": "return F.linear(x, W, b) + F.linear(F.linear(x, A), B)"},
           "drops_bias": {"p3_solution": "return x @ W.T + (alpha / A.shape[0]) * (x @ A.T) @ B.T"},
           "alpha_only": {"p3_solution": "return F.linear(x, W, b) + alpha * F.linear(F.linear(x, A), B)"}},
    "p4": {"unmerge_adds": {"p4_solution": ["return W + lora_delta(A, B, alpha)", "return W_merged + lora_delta(A, B, alpha)"]},
           "in_place": {"p4_solution": ["W += lora_delta(A, B, alpha)\nreturn W", "W_merged -= lora_delta(A, B, alpha)\nreturn W_merged"]},
           "no_scale": {"p4_solution": ["return W + B @ A", "return W_merged - B @ A"]}},
    "p5": {"unchanged": {"p5_solution": "LoRALinear = BuggyLoRALinear"},
           "r_over_alpha": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__(base, r, alpha)\n        self.scale = r / alpha"},
           "forward_only": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def forward(self, x):\n        return self.base(x) + (self.alpha / self.r) * (x @ self.lora_A.T) @ self.lora_B.T"}},
}

# Mistakes the specification invites (integer division, rounding, mutated inputs, dtypes, state across calls,
# the global generator, the wrong dimension): each must lose points on its part.
_R = "r = A.shape[0]\n"
MORE = {
    "p1": {"floor_division": {"p1_solution": "return (alpha // A.shape[0]) * B @ A"},
           "rounded_scale": {"p1_solution": "return round(alpha / A.shape[0]) * B @ A"},
           "scales_B_in_place": {"p1_solution": "B.mul_(alpha / A.shape[0])\nreturn B @ A"},
           "float32_result": {"p1_solution": "return ((alpha / A.shape[0]) * B.float() @ A.float())"},
           "rank_from_d": {"p1_solution": "return (alpha / B.shape[0]) * B @ A"},
           "count_as_float": {"p1_solution": ["return (alpha / A.shape[0]) * B @ A", "return r * (d + k) * 1.0"]},
           "count_square": {"p1_solution": ["return (alpha / A.shape[0]) * B @ A", "return 2 * r * max(d, k)"]}},
    "p2": {"global_generator": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                               "b = 1 / math.sqrt(in_features)\nreturn (torch.rand(r, in_features) * 2 - 1) * b, torch.zeros(out_features, r)"},
           "bound_from_out": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                             "b = 1 / math.sqrt(out_features)\nreturn (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)"},
           "positive_only": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                            "b = 1 / math.sqrt(in_features)\nreturn torch.rand(r, in_features, generator=generator) * b, torch.zeros(out_features, r)"},
           "rank_check_max": {"p2_solution": "if not 1 <= r <= max(in_features, out_features):\n    raise ValueError('rank')\n"
                                             "b = 1 / math.sqrt(in_features)\nreturn (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)"},
           "rank_check_strict": {"p2_solution": "if not 1 <= r < min(in_features, out_features):\n    raise ValueError('rank')\n"
                                                "b = 1 / math.sqrt(in_features)\nreturn (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)"},
           "float64_B": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                        "b = 1 / math.sqrt(in_features)\nreturn (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r, dtype=torch.float64)"},
           "clipped_normal": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                             "b = 1 / math.sqrt(in_features)\nA = (torch.randn(r, in_features, generator=generator) * b / math.sqrt(3)).clamp(-b, b)\n"
                                             "return A, torch.zeros(out_features, r)"},
           "transposed_A": {"p2_solution": "if not 1 <= r <= min(in_features, out_features):\n    raise ValueError('rank')\n"
                                           "b = 1 / math.sqrt(in_features)\nreturn (torch.rand(in_features, r, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)"}},
    "p3": {"floor_division": {"p3_solution": "return F.linear(x, W, b) + (alpha // A.shape[0]) * F.linear(F.linear(x, A), B)"},
           "bias_required": {"p3_solution": "return F.linear(x, W) + b + (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)"},
           "detached_adapter": {"p3_solution": "return F.linear(x, W, b) + (alpha / A.shape[0]) * F.linear(F.linear(x, A.detach()), B.detach())"},
           "forms_BA_einsum": {"p3_solution": "return torch.einsum('...k,dk->...d', x, W + (alpha / A.shape[0]) * torch.einsum('dr,rk->dk', B, A)) + (0 if b is None else b)"},
           "two_dims_only": {"p3_solution": "y = F.linear(x.reshape(-1, x.shape[-1]), W, b) + (alpha / A.shape[0]) * F.linear(F.linear(x.reshape(-1, x.shape[-1]), A), B)\nreturn y"},
           "float32_compute": {"p3_solution": "x32 = x.float()\nreturn F.linear(x32, W.float(), None if b is None else b.float()) + (alpha / A.shape[0]) * F.linear(F.linear(x32, A.float()), B.float())"}},
    "p4": {"floor_division": {"p4_solution": ["return W + (alpha // A.shape[0]) * B @ A", "return W_merged - (alpha // A.shape[0]) * B @ A"]},
           "remembers_original": {"p4_solution": ["W_new = W + lora_delta(A, B, alpha)\n_ORIGINALS[id(W_new)] = W\nreturn W_new",
                                                  "return _ORIGINALS.get(id(W_merged), W_merged - lora_delta(A, B, alpha))"],
                                  "p1_solution": ["_ORIGINALS = {}\nreturn (alpha / A.shape[0]) * B @ A"]},
           "returns_input_when_zero": {"p4_solution": ["return W if not B.any() else W + lora_delta(A, B, alpha)", "return W_merged - lora_delta(A, B, alpha)"]},
           "unmerge_in_place": {"p4_solution": ["return W + lora_delta(A, B, alpha)", "return W_merged.sub_(lora_delta(A, B, alpha))"]},
           "float64_result": {"p4_solution": ["return W.double() + lora_delta(A, B, alpha).double()", "return W_merged.double() - lora_delta(A, B, alpha).double()"]}},
    "p5": {"floor_division": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__(base, r, alpha)\n        self.scale = alpha // r"},
           "divides_by_in_features": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__(base, r, alpha)\n        self.scale = alpha / base.in_features"},
           "B_random": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__(base, r, alpha)\n        self.scale = alpha / r\n        torch.nn.init.normal_(self.lora_B, std=0.02)"},
           "base_trainable": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__(base, r, alpha)\n        self.scale = alpha / r\n        for p in self.base.parameters():\n            p.requires_grad_(True)"}},
}
for _part, _vs in MORE.items(): WRONG[_part].update(_vs)

# Written after the probes, as a held-out check of how they generalise (all caught before any probe changed).
HELD_OUT = {'p1': {'transposed': {'p1_solution': ['return (alpha / A.shape[0]) * A.T @ B.T']},
        'A_in_place': {'p1_solution': ['A.mul_(alpha / A.shape[0])\nreturn B @ A']},
        'count_r_d_plus_k': {'p1_solution': ['return (alpha / A.shape[0]) * B @ A', 'return r * d + k']}},
 'p2': {'bound_no_sqrt': {'p2_solution': 'if not 1 <= r <= min(in_features, out_features):\n'
                                         "    raise ValueError('r')\n"
                                         'b = 1 / in_features\n'
                                         'return (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)'},
        'B_transposed': {'p2_solution': 'if not 1 <= r <= min(in_features, out_features):\n'
                                        "    raise ValueError('r')\n"
                                        'b = 1 / math.sqrt(in_features)\n'
                                        'return (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(r, out_features)'},
        'only_lower_check': {'p2_solution': 'if r < 1:\n'
                                            "    raise ValueError('r')\n"
                                            'b = 1 / math.sqrt(in_features)\n'
                                            'return (torch.rand(r, in_features, generator=generator) * 2 - 1) * b, torch.zeros(out_features, r)'},
        'seeds_global': {'p2_solution': 'if not 1 <= r <= min(in_features, out_features):\n'
                                        "    raise ValueError('r')\n"
                                        'if generator is not None:\n'
                                        '    torch.manual_seed(generator.initial_seed())\n'
                                        'b = 1 / math.sqrt(in_features)\n'
                                        'return (torch.rand(r, in_features) * 2 - 1) * b, torch.zeros(out_features, r)'}},
 'p3': {'AtBt_first': {'p3_solution': 'return F.linear(x, W, b) + (alpha / A.shape[0]) * x @ (A.T @ B.T)'},
        'merged_linear': {'p3_solution': 'return F.linear(x, W, b) + (alpha / A.shape[0]) * F.linear(x, B @ A)'},
        'no_grad_adapter': {'p3_solution': 'with torch.no_grad():\n'
                                           '    extra = (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)\n'
                                           'return F.linear(x, W, b) + extra'}},
 'p4': {'scale_by_d': {'p4_solution': ['return W + (alpha / B.shape[0]) * B @ A', 'return W_merged - (alpha / B.shape[0]) * B @ A']},
        'merge_in_place_data': {'p4_solution': ['W.data += lora_delta(A, B, alpha)\nreturn W.clone()', 'return W_merged - lora_delta(A, B, alpha)']}},
 'p5': {'scale_r_over_alpha_forward': {'p5_solution': 'class LoRALinear(BuggyLoRALinear):\n'
                                                      '    def __init__(self, base, r=8, alpha=16):\n'
                                                      '        super().__init__(base, r, alpha)\n'
                                                      '        self.scale = alpha / r\n'
                                                      '    def forward(self, x):\n'
                                                      '        return self.base(x) + (self.r / self.alpha) * (x @ self.lora_A.T) @ self.lora_B.T'},
        'bias_trainable': {'p5_solution': 'class LoRALinear(BuggyLoRALinear):\n'
                                          '    def __init__(self, base, r=8, alpha=16):\n'
                                          '        super().__init__(base, r, alpha)\n'
                                          '        self.scale = alpha / r\n'
                                          '        if base.bias is not None: base.bias.requires_grad_(True)'}}}
for _part, _vs in HELD_OUT.items(): WRONG[_part].update(_vs)
