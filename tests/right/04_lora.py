"""Correct implementations of assignment 04_lora written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_RANK = "if r < 1 or r > min(in_features, out_features):\n    raise ValueError(f'bad rank {r}')\n"

RIGHT = {
    "p1": {"matmul_then_scale": {"p1_solution": ["return torch.matmul(B, A) * (alpha / A.shape[0])", "return d * r + k * r"]},
           "einsum_rank_from_B": {"p1_solution": ["return torch.einsum('dr,rk->dk', B, A).mul(alpha / B.shape[1])", "return int(r * (d + k))"]},
           "sum_of_outer_products": {"p1_solution": "r = A.shape[0]\nreturn sum(torch.outer(B[:, i], A[i]) for i in range(r)) * (alpha / r)"},
           "scale_B_first": {"p1_solution": "return (B * (alpha / A.shape[0])) @ A"},
           "float64_intermediate": {"p1_solution": "return ((float(alpha) / A.shape[0]) * (B.double() @ A.double())).to(A.dtype)"}},
    "p2": {"uniform_": {"p2_solution": _RANK + "b = 1 / math.sqrt(in_features)\n"
                                               "return torch.empty(r, in_features).uniform_(-b, b, generator=generator), torch.zeros(out_features, r)"},
           "kaiming_uniform": {"p2_solution": _RANK + "A = torch.empty(r, in_features)\n"
                                                      "torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5), generator=generator)\n"
                                                      "return A, A.new_zeros(out_features, r)"},
           "shifted_rand": {"p2_solution": _RANK + "b = in_features ** -0.5\n"
                                                   "A = (torch.rand(r, in_features, generator=generator, dtype=torch.float64) - 0.5) * (2 * b)\n"
                                                   "return A.float(), torch.zeros((out_features, r), dtype=torch.float32)"},
           "lerp_between_bounds": {"p2_solution": _RANK + "b = 1 / math.sqrt(in_features)\n"
                                                          "u = torch.rand(r, in_features, generator=generator)\n"
                                                          "return torch.lerp(torch.full_like(u, -b), torch.full_like(u, b), u), torch.zeros(out_features, r)"}},
    "p3": {"matmul_with_optional_bias": {"p3_solution": "y = x @ W.T + (x @ A.T @ B.T) * (alpha / A.shape[0])\nreturn y if b is None else y + b"},
           "einsum_two_steps": {"p3_solution": "h = torch.einsum('...k,rk->...r', x, A)\n"
                                               "return torch.einsum('...k,dk->...d', x, W) + (0 if b is None else b) + alpha / A.size(0) * torch.einsum('...r,dr->...d', h, B)"},
           "flatten_and_restore": {"p3_solution": "lead, k = x.shape[:-1], x.shape[-1]\nx2 = x.reshape(-1, k)\n"
                                                  "y = x2 @ W.T + ((x2 @ A.T) @ B.T) * (alpha / A.shape[0])\nif b is not None:\n    y = y + b\n"
                                                  "return y.reshape(*lead, W.shape[0])"},
           "scale_inside": {"p3_solution": "scale = alpha / A.shape[0]\nreturn F.linear(x, W, b) + F.linear(F.linear(x, A * scale), B)"}},
    "p4": {"addmm": {"p4_solution": ["return torch.addmm(W, B, A, alpha=alpha / A.shape[0])", "return torch.addmm(W_merged, B, A, alpha=-alpha / A.shape[0])"]},
           "clone_then_add_": {"p4_solution": ["out = W.clone()\nout.add_(B @ A, alpha=alpha / A.shape[0])\nreturn out",
                                               "out = W_merged.clone()\nout.sub_(B @ A, alpha=alpha / A.shape[0])\nreturn out"]},
           "float64_then_cast": {"p4_solution": ["return (W.double() + (alpha / A.shape[0]) * (B.double() @ A.double())).to(W.dtype)",
                                                 "return (W_merged.double() - (alpha / A.shape[0]) * (B.double() @ A.double())).to(W_merged.dtype)"]},
           "unmerge_via_merge": {"p4_solution": ["return W + lora_delta(A, B, alpha)", "return merge(W_merged, A, -B, alpha)"]}},
    "p5": {"subclass_fixes_scale": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    def __init__(self, base, r=8, alpha=16):\n"
                                                   "        super().__init__(base, r, alpha)\n        self.scale = alpha / r"},
           "rewritten_with_F_linear": {"p5_solution": (
               "class LoRALinear(nn.Module):\n    def __init__(self, base, r=8, alpha=16):\n        super().__init__()\n"
               "        self.base, self.r, self.alpha = base, r, alpha\n        base.requires_grad_(False)\n"
               "        bound = 1 / math.sqrt(base.in_features)\n"
               "        self.lora_A = nn.Parameter(torch.empty(r, base.in_features).uniform_(-bound, bound))\n"
               "        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))\n\n"
               "    def forward(self, x):\n        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * (self.alpha / self.r)\n\n"
               "    @torch.no_grad()\n    def merged_weight(self):\n        return torch.addmm(self.base.weight, self.lora_B, self.lora_A, alpha=self.alpha / self.r)")},
           "scale_as_property": {"p5_solution": "class LoRALinear(BuggyLoRALinear):\n    @property\n    def scale(self):\n        return self.alpha / self.r\n\n"
                                                "    @scale.setter\n    def scale(self, value):\n        pass"}},
}

# Written after the probes, as a held-out check (all accepted before any probe changed): clipping the scaled
# gradients to max_norm * scale and float32 quantiles are equivalent to the specification, not mistakes.
HELD_OUT = {'p3': {'addmm_2d': {'p3_solution': 'lead = x.shape[:-1]\n'
                                    'x2 = x.reshape(-1, x.shape[-1])\n'
                                    'out = torch.addmm(b if b is not None else x2.new_zeros(W.shape[0]), x2, W.T) + (alpha / A.shape[0]) * ((x2 @ '
                                    'A.T) @ B.T)\n'
                                    'return out.reshape(*lead, W.shape[0])'}},
 'p2': {'uniform_then_scale': {'p2_solution': "if r < 1 or r > min(in_features, out_features): raise ValueError('rank')\n"
                                              'A = torch.empty(r, in_features)\n'
                                              'A.uniform_(-1.0, 1.0, generator=generator)\n'
                                              'return A / math.sqrt(in_features), torch.zeros(out_features, r)'}}}
for _part, _vs in HELD_OUT.items(): RIGHT.setdefault(_part, {}).update(_vs)
