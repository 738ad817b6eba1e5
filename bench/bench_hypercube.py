"""Solve time of the hypercube models, against a dense linear solve in the same run.

The exact model runs at N = 10, 14 and 18 cars (1,024 to 262,144 states), Larson's
approximation at N = 27, and the kiosk model at 9 kiosks of 3 cars (4^9 = 262,144 states).
Atoms are random points, preferences by distance, load 0.6 per car. The baseline builds the
dense 2^N x 2^N generator for N = 10 and solves it with numpy; the ratio is baseline / ours.

    .venv/bin/python bench/bench_hypercube.py [--seed N] [--smoke]

`--smoke` solves the exact model at N = 8 and 10 (the baseline at 10, as in a full run) and the
kiosk model at 4 kiosks of 3 cars. Always exits 0 (non-zero on a crash).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from harness import parse_args
from jiaoxun.planning.hypercube import HypercubeModel, HypercubeResult, KioskHypercube
from jiaoxun.planning.hypercube_approx import ApproximateHypercube


def city(n_units: int, n_atoms: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    atoms, units = rng.random((n_atoms, 2)), rng.random((n_units, 2))
    distance = np.linalg.norm(units[:, None] - atoms[None], axis=2)
    rate = rng.random(n_atoms)
    return rate, np.argsort(distance, axis=0).T


def dense_solve(rate: np.ndarray, preference: np.ndarray) -> np.ndarray:
    """Baseline: the full generator matrix, one row replaced by the normalisation."""
    n_units = preference.shape[1]
    n_states = 1 << n_units
    generator = np.zeros((n_states, n_states))
    for s in range(n_states):
        for n in range(n_units):
            if s >> n & 1:
                generator[s, s ^ (1 << n)] += 1.0
        for j, order in enumerate(preference):
            free = [n for n in order if not s >> n & 1]
            if free:
                generator[s, s | (1 << free[0])] += rate[j]
    np.fill_diagonal(generator, -generator.sum(axis=1))
    a = generator.T.copy()
    a[-1] = 1.0
    b = np.zeros(n_states)
    b[-1] = 1.0
    return np.linalg.solve(a, b)


def timed(solve: object) -> tuple[HypercubeResult, float]:
    start = time.perf_counter()
    result = solve()  # type: ignore[operator]
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parse_args(parser, smoke={})
    seed = args.seed
    exact_sizes, n_kiosks = ((8, 10), 4) if args.smoke else ((10, 14, 18), 9)
    rng = np.random.default_rng(seed)
    table = Table(title=f"Hypercube models, load 0.6 per car, seed {seed}")
    for column in ("model", "states", "time s", "iterations", "residual", "mean workload"):
        table.add_column(column, justify="right" if column != "model" else "left")

    def add(name: str, states: str, result: HypercubeResult, seconds: float) -> None:
        table.add_row(
            name,
            states,
            f"{seconds:.3f}",
            str(result.iterations),
            f"{result.residual:.1e}",
            f"{result.workload.mean():.4f}",
        )

    ratio_line = ""
    for n_units in exact_sizes:
        rate, preference = city(n_units, 3 * n_units, rng)
        rate *= 0.6 * n_units / rate.sum()
        model = HypercubeModel.from_rates(rate, preference, line="zero")
        result, seconds = timed(model.solve)
        add(f"exact hypercube N={n_units}", f"{1 << n_units:,}", result, seconds)
        if n_units == 10:
            start = time.perf_counter()
            dense = dense_solve(rate, preference)
            dense_s = time.perf_counter() - start
            exact = result.state_probability
            gap = float(np.abs(dense - exact).max()) if exact is not None else float("nan")
            ratio_line = (
                f"N=10 dense solve {dense_s:.3f} s vs ours {seconds:.3f} s: "
                f"ratio {dense_s / seconds:.1f}x, max probability gap {gap:.1e}"
            )
    rate, preference = city(27, 81, rng)
    rate *= 0.6 * 27 / rate.sum()
    result, seconds = timed(ApproximateHypercube.from_rates(rate, preference).solve)
    add("approximation N=27", "27 equations", result, seconds)
    rate, preference = city(n_kiosks, 3 * n_kiosks, rng)
    rate *= 0.6 * 3 * n_kiosks / rate.sum()
    kiosks = KioskHypercube.from_rates(rate, preference, cars_per_kiosk=[3] * n_kiosks)
    result, seconds = timed(kiosks.solve)
    add(f"kiosks {n_kiosks} x 3 cars", f"{4**n_kiosks:,}", result, seconds)
    console = Console(width=120)
    console.print(table)
    console.print(ratio_line, markup=False)


if __name__ == "__main__":
    main()
