"""Wrong implementations of assignment 11_search, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_P1 = "if not 0 < low < high:\n    raise ValueError('range')\nif size < 0:\n    raise ValueError('size')\n"
_SH = """def key(item):
    i, v = item
    return (0 if math.isnan(v) else 1, -math.inf if math.isnan(v) else v, -i)
alive, budget, pairs = list(range(n_configs)), min_budget, []
"""
_P3 = "if len(completed) < max(1, n_startup_trials) or not values:\n    return False\nstep = max(values)\nif step < n_warmup_steps:\n    return False\n"

WRONG = {
    "p1": {"uniform": {"p1_solution": _P1 + "return rng.uniform(low, high, size)"},
           "global_generator": {"p1_solution": _P1 + "return np.exp(np.random.uniform(math.log(low), math.log(high), size))"},
           "base10_on_natural_log": {"p1_solution": _P1 + "return 10 ** rng.uniform(math.log(low), math.log(high), size)"},
           "fresh_generator": {"p1_solution": _P1 + "return np.exp(np.random.default_rng(0).uniform(math.log(low), math.log(high), size))"},
           "no_checks": {"p1_solution": "with np.errstate(all='ignore'):\n    return np.exp(rng.uniform(np.log(max(low, 1e-300)), np.log(high), max(size, 0)))"},
           "float32": {"p1_solution": _P1 + "return np.exp(rng.uniform(math.log(low), math.log(high), size)).astype(np.float32)"},
           "sqrt_spacing": {"p1_solution": _P1 + "return rng.uniform(math.sqrt(low), math.sqrt(high), size) ** 2"}},
    "p2": {"keeps_half": {"p2_solution": _SH + "while True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                         "    ranked = sorted(scores, key=key, reverse=True)\n    keep = len(alive) // 2\n"
                                         "    if keep < 1 or budget * eta > max_budget:\n        return ranked[0][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "lowest_first": {"p2_solution": _SH + "while True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                           "    ranked = sorted(scores, key=key)\n    keep = len(alive) // eta\n"
                                           "    if keep < 1 or budget * eta > max_budget:\n        return ranked[-1][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "nan_best": {"p2_solution": "alive, budget, pairs = list(range(n_configs)), min_budget, []\n"
                                       "while True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                       "    ranked = sorted(scores, key=lambda s: (s[1] if s[1] == s[1] else math.inf, -s[0]), reverse=True)\n    keep = len(alive) // eta\n"
                                       "    if keep < 1 or budget * eta > max_budget:\n        return ranked[0][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "ties_to_higher": {"p2_solution": "alive, budget, pairs = list(range(n_configs)), min_budget, []\n"
                                             "def key(s):\n    return (0 if math.isnan(s[1]) else 1, -math.inf if math.isnan(s[1]) else s[1], s[0])\n"
                                             "while True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                             "    ranked = sorted(scores, key=key, reverse=True)\n    keep = len(alive) // eta\n"
                                             "    if keep < 1 or budget * eta > max_budget:\n        return ranked[0][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "winner_overall": {"p2_solution": _SH + "best = None\nwhile True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                             "    ranked = sorted(scores, key=key, reverse=True)\n    best = ranked[0] if best is None or key(ranked[0]) > key(best) else best\n    keep = len(alive) // eta\n"
                                             "    if keep < 1 or budget * eta > max_budget:\n        return best[0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "runs_past_max": {"p2_solution": _SH + "while True:\n    scores = [(i, float(score(i, min(budget, max_budget)))) for i in alive]\n    pairs += [(i, min(budget, max_budget)) for i in alive]\n"
                                            "    ranked = sorted(scores, key=key, reverse=True)\n    keep = len(alive) // eta\n"
                                            "    if keep < 1 or budget >= max_budget:\n        return ranked[0][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "ceil_keep": {"p2_solution": _SH + "while True:\n    scores = [(i, float(score(i, budget))) for i in alive]\n    pairs += [(i, budget) for i in alive]\n"
                                        "    ranked = sorted(scores, key=key, reverse=True)\n    keep = -(-len(alive) // eta)\n"
                                        "    if len(alive) < eta or budget * eta > max_budget:\n        return ranked[0][0], pairs\n    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"},
           "scores_twice": {"p2_solution": _SH + "while True:\n    pairs += [(i, budget) for i in alive]\n"
                                           "    ranked = sorted([(i, float(score(i, budget))) for i in alive], key=key, reverse=True)\n    keep = len(alive) // eta\n"
                                           "    if keep < 1 or budget * eta > max_budget:\n        return max(alive, key=lambda i: key((i, float(score(i, budget))))), pairs\n"
                                           "    alive, budget = [i for i, _ in ranked[:keep]], budget * eta"}},
    "p3": {"latest_value": {"p3_solution": _P3 + "v = values[step]\nif math.isnan(v):\n    return True\nothers = [c[step] for c in completed if step in c and not math.isnan(c[step])]\n"
                                             "return bool(others) and v < float(np.median(others))"},
           "mean_not_median": {"p3_solution": _P3 + "mine = [v for v in values.values() if not math.isnan(v)]\nif not mine:\n    return True\n"
                                                "others = [c[step] for c in completed if step in c and not math.isnan(c[step])]\nreturn bool(others) and max(mine) < float(np.mean(others))"},
           "final_values": {"p3_solution": _P3 + "mine = [v for v in values.values() if not math.isnan(v)]\nif not mine:\n    return True\n"
                                             "others = [c[max(c)] for c in completed if not math.isnan(c[max(c)])]\nreturn bool(others) and max(mine) < float(np.median(others))"},
           "nan_kept": {"p3_solution": _P3 + "mine = list(values.values())\nothers = [c[step] for c in completed if step in c]\n"
                                         "return bool(others) and max(mine) < float(np.median(others))"},
           "startup_strict": {"p3_solution": "if len(completed) <= n_startup_trials or not values:\n    return False\nstep = max(values)\nif step < n_warmup_steps:\n    return False\n"
                                             "mine = [v for v in values.values() if not math.isnan(v)]\nif not mine:\n    return True\n"
                                             "others = [c[step] for c in completed if step in c and not math.isnan(c[step])]\nreturn bool(others) and max(mine) < float(np.median(others))"},
           "less_or_equal": {"p3_solution": _P3 + "mine = [v for v in values.values() if not math.isnan(v)]\nif not mine:\n    return True\n"
                                              "others = [c[step] for c in completed if step in c and not math.isnan(c[step])]\nreturn bool(others) and max(mine) <= float(np.median(others))"},
           "first_step_warmup": {"p3_solution": "if len(completed) < max(1, n_startup_trials) or not values:\n    return False\nstep = max(values)\nif min(values) < n_warmup_steps:\n    return False\n"
                                                "mine = [v for v in values.values() if not math.isnan(v)]\nif not mine:\n    return True\n"
                                                "others = [c[step] for c in completed if step in c and not math.isnan(c[step])]\nreturn bool(others) and max(mine) < float(np.median(others))"}},
    "p4": {"unchanged": {"p4_solution": "choose_and_report = buggy_choose_and_report"},
           "validation_report": {"p4_solution": "def choose_and_report(trials, test_score):\n    c = [t for t in trials if not math.isnan(t['val'])]\n    if not c:\n        raise ValueError('none')\n"
                                                "    best = max(c, key=lambda t: t['val'])\n    return best['params'], best['val']"},
           "tests_all_reports_chosen": {"p4_solution": "def choose_and_report(trials, test_score):\n    c = [t for t in trials if not math.isnan(t['val'])]\n    if not c:\n        raise ValueError('none')\n"
                                                       "    tests = [test_score(t['params']) for t in c]\n    best = max(c, key=lambda t: t['val'])\n    return best['params'], tests[c.index(best)]"},
           "last_of_ties": {"p4_solution": "def choose_and_report(trials, test_score):\n    c = [t for t in trials if not math.isnan(t['val'])]\n    if not c:\n        raise ValueError('none')\n"
                                           "    best = max(reversed(c), key=lambda t: t['val'])\n    return best['params'], test_score(best['params'])"},
           "nan_chosen": {"p4_solution": "def choose_and_report(trials, test_score):\n    if not trials:\n        raise ValueError('none')\n"
                                         "    best = max(trials, key=lambda t: t['val'] if t['val'] == t['val'] else math.inf)\n    return best['params'], test_score(best['params'])"}},
    "p5": {"mean": {"p5_solution": "if len(step_seconds) < 2:\n    raise ValueError('few')\nif any(p < 0 for p in prices_per_hour.values()):\n    raise ValueError('price')\n"
                                   "h = float(np.mean(step_seconds[1:])) * steps_per_trial * n_trials / 3600\nreturn {k: p * h for k, p in prices_per_hour.items()}"},
           "first_step_kept": {"p5_solution": "if len(step_seconds) < 2:\n    raise ValueError('few')\nif any(p < 0 for p in prices_per_hour.values()):\n    raise ValueError('price')\n"
                                              "h = float(np.median(step_seconds)) * steps_per_trial * n_trials / 3600\nreturn {k: p * h for k, p in prices_per_hour.items()}"},
           "sorts_in_place": {"p5_solution": "if len(step_seconds) < 2:\n    raise ValueError('few')\nif any(p < 0 for p in prices_per_hour.values()):\n    raise ValueError('price')\n"
                                             "rest = step_seconds[1:]\nstep_seconds.sort()\nh = float(np.median(rest)) * steps_per_trial * n_trials / 3600\nreturn {k: p * h for k, p in prices_per_hour.items()}"},
           "per_minute": {"p5_solution": "if len(step_seconds) < 2:\n    raise ValueError('few')\nif any(p < 0 for p in prices_per_hour.values()):\n    raise ValueError('price')\n"
                                         "h = float(np.median(step_seconds[1:])) * steps_per_trial * n_trials / 60\nreturn {k: p * h for k, p in prices_per_hour.items()}"},
           "no_checks": {"p5_solution": "h = float(np.median(step_seconds[1:] or [0.0])) * steps_per_trial * n_trials / 3600\nreturn {k: max(p, 0) * h for k, p in prices_per_hour.items()}"}},
}
