"""Benchmark of the scoring engine (not a test): ``.venv/bin/python bench/engine.py``.

1. TOPSIS and entropy weights on a 100,000 × 50 matrix against pymcdm, scikit-criteria and a
   bare numpy formula, on the same data in the same run.
2. A full evaluation of 2,000 targets × 150 leaf indicators × 4 rater groups with 10 million
   rater scores (aggregation, roll-up, grading, ranking and explanation arrays, plus building
   every target's JSON explanation tree), in a subprocess so its peak memory (ru_maxrss) is
   honest.

The last line is machine-readable:
``topsis_vs_pymcdm=… entropy_vs_pymcdm=… topsis_vs_skcriteria=… topsis_vs_bare=…
full_eval_s=… full_eval_peak_mb=…`` (ratios are speed-ups: the other's time ÷ ours).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kaoping.engine import (
    IndicatorTree,
    Inputs,
    Node,
    RaterGroup,
    Rule,
    ScoreInputs,
    Settings,
    Targets,
    entropy_weights,
    evaluate,
    topsis,
)
from kaoping.engine.explain import check_additive


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bare_topsis(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = x / np.sqrt((x**2).sum(axis=0))
    v = n * w
    ideal = np.where(b, v.max(axis=0), v.min(axis=0))
    anti = np.where(b, v.min(axis=0), v.max(axis=0))
    dp = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    dm = np.sqrt(((v - anti) ** 2).sum(axis=1))
    out: np.ndarray = dm / (dp + dm)
    return out


def mcdm_part() -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 100, (100_000, 50))
    w = rng.uniform(0.5, 1.5, 50)
    w /= w.sum()
    b = np.ones(50, dtype=bool)
    b[::5] = False
    types = np.where(b, 1, -1)
    ours_t = best_of(lambda: topsis(x, w, b))
    ours_e = best_of(lambda: entropy_weights(x), 7)
    bare_t = best_of(lambda: bare_topsis(x, w, b))
    np.testing.assert_allclose(topsis(x, w, b), bare_topsis(x, w, b), rtol=1e-9)
    out = {"ours_topsis": ours_t, "ours_entropy": ours_e, "bare_topsis": bare_t}
    print(f"ours:  topsis {ours_t * 1e3:8.1f} ms   entropy {ours_e * 1e3:8.1f} ms")
    print(f"bare numpy topsis {bare_t * 1e3:8.1f} ms")
    try:
        from pymcdm import normalizations
        from pymcdm.methods import TOPSIS
        from pymcdm.weights import entropy_weights as pm_entropy

        pm = TOPSIS(normalizations.vector_normalization)
        np.testing.assert_allclose(pm(x, w, types), topsis(x, w, b), rtol=1e-9)
        np.testing.assert_allclose(pm_entropy(x), entropy_weights(x), rtol=1e-9)
        out["pymcdm_topsis"] = best_of(lambda: pm(x, w, types), 2)
        out["pymcdm_entropy"] = best_of(lambda: pm_entropy(x), 5)
        print(
            f"pymcdm: topsis {out['pymcdm_topsis'] * 1e3:8.1f} ms   "
            f"entropy {out['pymcdm_entropy'] * 1e3:8.1f} ms"
        )
    except ImportError as e:
        print(f"pymcdm not available: {e}")
    try:
        import warnings

        import skcriteria as skc
        from skcriteria.agg.topsis import TOPSIS as SkTOPSIS
        from skcriteria.preprocessing.scalers import VectorScaler

        # scikit-criteria warns that TOPSIS with minimized criteria is "not recommended"
        warnings.filterwarnings("ignore", category=UserWarning, module="skcriteria")

        def sk() -> Any:
            dm = skc.mkdm(x, np.where(b, max, min), weights=w)
            dm = VectorScaler(target="matrix").transform(dm)
            return SkTOPSIS().evaluate(dm)

        res = sk()
        np.testing.assert_allclose(res.e_.similarity, topsis(x, w, b), rtol=1e-9)
        out["skcriteria_topsis"] = best_of(sk, 2)
        print(f"scikit-criteria: topsis {out['skcriteria_topsis'] * 1e3:8.1f} ms")
    except ImportError as e:
        print(f"scikit-criteria not available: {e}")
    return out


def build_case(
    n_t: int = 2000, n_dims: int = 8, n_leaves: int = 150, n_rows: int = 10_000_000
) -> tuple[IndicatorTree, Targets, Inputs]:
    rng = np.random.default_rng(1)
    groups = ["committee", "leaders", "members", "masses"]
    nodes = [Node(f"D{d}", weight=float(rng.integers(1, 5))) for d in range(n_dims)]
    per_dim = n_leaves // n_dims
    for k in range(n_leaves):
        d = min(k // per_dim, n_dims - 1)
        nodes.append(
            Node(
                f"D{d}.{k}",
                parent=f"D{d}",
                weight=float(rng.integers(1, 5)),
                rule=Rule("rating", max=10),
            )
        )
    tree = IndicatorTree(
        nodes=nodes,
        rater_groups=[RaterGroup(g, min_ballots=3) for g in groups],
        default_rater_weights={"committee": 0.4, "leaders": 0.2, "members": 0.3, "masses": 0.1},
    )
    t = rng.integers(0, n_t, n_rows)
    ind = rng.integers(n_dims, n_dims + n_leaves, n_rows)
    g = rng.integers(0, 4, n_rows)
    rater = g * 1000 + rng.integers(0, 1000, n_rows)
    value = np.round(rng.uniform(4, 10, n_rows), 1)
    scores = ScoreInputs(t, ind, g, rater, value)
    tg = Targets([f"T{i:04d}" for i in range(n_t)], None, [f"G{i % 40}" for i in range(n_t)])
    return tree, tg, Inputs(scores=scores)


def full_eval_child() -> None:
    """Runs in a subprocess: build the data, time the evaluation, report peak memory."""
    tree, tg, inputs = build_case()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    settings = Settings(within_group="trimmed_mean", quotas={"好": 0.2})
    t0 = time.perf_counter()
    ev = evaluate(tree, tg, inputs, settings)
    t1 = time.perf_counter()
    trees = ev.explanations()
    t2 = time.perf_counter()
    worst = max(check_additive(x) for x in trees[:50])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "evaluate_s": t1 - t0,
                "explanations_s": t2 - t1,
                "total_s": t2 - t0,
                "peak_mb": peak / 1024,
                "input_mb": base_rss / 1024,
                "worst_additivity": worst,
            }
        )
    )


def main() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"numpy {np.__version__}, {os.cpu_count()} cpu(s), load average {load}")
    v = np.random.default_rng(0).uniform(1, 100, 5_000_000)
    log_t = best_of(lambda: np.log(v), 3)
    print(f"np.log on 5M float64 (one thread, incl. allocation): {log_t * 1e3:.1f} ms")
    m = mcdm_part()
    proc = subprocess.run(
        [sys.executable, __file__, "--full-eval-child"], capture_output=True, text=True, check=True
    )
    full = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"full evaluation 2000 × 150 × 4, 10M scores: evaluate {full['evaluate_s']:.2f} s, "
        f"explanation trees {full['explanations_s']:.2f} s, total {full['total_s']:.2f} s; "
        f"peak RSS {full['peak_mb']:.0f} MB (of which inputs+interpreter {full['input_mb']:.0f} MB); "
        f"additivity error {full['worst_additivity']:.1e}"
    )
    nan = float("nan")

    def ratio(other: str, ours: str) -> float:
        return m[other] / m[ours] if other in m else nan

    print(
        f"topsis_vs_pymcdm={ratio('pymcdm_topsis', 'ours_topsis'):.2f} "
        f"entropy_vs_pymcdm={ratio('pymcdm_entropy', 'ours_entropy'):.2f} "
        f"topsis_vs_skcriteria={ratio('skcriteria_topsis', 'ours_topsis'):.2f} "
        f"topsis_vs_bare={ratio('bare_topsis', 'ours_topsis'):.2f} "
        f"full_eval_s={full['total_s']:.2f} full_eval_peak_mb={full['peak_mb']:.0f}"
    )


if __name__ == "__main__":
    if "--full-eval-child" in sys.argv:
        full_eval_child()
    else:
        main()
