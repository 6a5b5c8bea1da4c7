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
