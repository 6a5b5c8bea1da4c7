"""Correct implementations of assignment 11_search written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

RIGHT = {
    "p1": {"exponent_of_ten": {"p1_solution": "if not (low > 0 and high > low):\n    raise ValueError('range')\nif size < 0:\n    raise ValueError('size')\n"
                                              "u = rng.random(size)\nv = 10 ** (math.log10(low) + u * (math.log10(high) / 1 - math.log10(low)))\nreturn np.minimum(v, np.nextafter(high, 0.0))"},
           "geometric_interpolation": {"p1_solution": "if low <= 0 or high <= low:\n    raise ValueError('range')\nif size < 0:\n    raise ValueError('size')\n"
                                                      "v = low * (high / low) ** rng.random(size)\nreturn np.where(v >= high, np.nextafter(high, low), v).astype(float)"}},
    "p2": {"recursive": {"p2_solution": "pairs = []\n"
                                        "def rung(alive, budget):\n"
                                        "    vals = {}\n    for i in alive:\n        vals[i] = score(i, budget)\n        pairs.append((i, budget))\n"
                                        "    order = sorted(alive, key=lambda i: (math.isnan(vals[i]), -vals[i] if not math.isnan(vals[i]) else 0.0, i))\n"
                                        "    k = len(alive) // eta\n    if k == 0 or budget * eta > max_budget:\n        return order[0]\n    return rung(order[:k], budget * eta)\n"
                                        "return rung(list(range(n_configs)), min_budget), pairs"}},
    "p3": {"numpy_nan_functions": {"p3_solution": "if not values or len(completed) < max(1, n_startup_trials):\n    return False\ns = max(values.keys())\nif s < n_warmup_steps:\n    return False\n"
                                                  "mine = np.array(list(values.values()), dtype=float)\nif np.isnan(mine).all():\n    return True\n"
                                                  "others = np.array([c[s] for c in completed if s in c], dtype=float)\nif others.size == 0 or np.isnan(others).all():\n    return False\n"
                                                  "return bool(np.nanmax(mine) < np.nanmedian(others))"},
           "sorted_median": {"p3_solution": "if not values or len(completed) < max(n_startup_trials, 1):\n    return False\ns = sorted(values)[-1]\nif s < n_warmup_steps:\n    return False\n"
                                            "mine = [v for v in values.values() if v == v]\nif len(mine) == 0:\n    return True\n"
                                            "o = sorted(c[s] for c in completed if s in c and c[s] == c[s])\nif not o:\n    return False\n"
                                            "k = len(o)\nmed = o[k // 2] if k % 2 else (o[k // 2 - 1] + o[k // 2]) / 2\nreturn max(mine) < med"}},
    "p4": {"index_loop": {"p4_solution": "def choose_and_report(trials, test_score):\n    best = None\n    for i, t in enumerate(trials):\n"
                                         "        if t['val'] != t['val']:\n            continue\n        if best is None or t['val'] > trials[best]['val']:\n            best = i\n"
                                         "    if best is None:\n        raise ValueError('nothing to choose')\n    return trials[best]['params'], test_score(trials[best]['params'])"}},
    "p5": {"statistics_median": {"p5_solution": "import statistics\nif len(step_seconds) < 2:\n    raise ValueError('need two step times')\n"
                                                "for k, p in prices_per_hour.items():\n    if p < 0:\n        raise ValueError(k)\n"
                                                "sec = statistics.median(step_seconds[1:]) * steps_per_trial * n_trials\nreturn {k: p * sec / 3600 for k, p in prices_per_hour.items()}"}},
}
