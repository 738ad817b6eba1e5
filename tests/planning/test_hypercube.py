"""Hypercube models against Larson & Odoni's worked example, closed forms and each other."""

from __future__ import annotations

import numpy as np
import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.planning import hypercube
from jiaoxun.planning.hypercube import HypercubeModel, KioskHypercube
from jiaoxun.planning.hypercube_approx import ApproximateHypercube, correction_factors

# Larson & Odoni, Urban Operations Research (1981), section 5.4.3, three-server example:
# lambda = 1.5 and mu = 1 per mean service time, infinite line. Figure 5.11's per-atom rates are
# an image, so the ten atoms are grouped by their preference list (Table 5-4 as described in the
# text): atoms 1, 2 -> (1, 2, 3); atom 4 -> (1, 3, 2); area 2 -> (2, 1, 3); area 3 -> (3, 1, 2);
# unit 1's area carries 0.75 ("50 percent of the city's workload"). The split within areas
# (0.3033 / 0.4467 and 0.4035 / 0.3465) is recovered from the published exact workloads.
BOOK_PREFERENCE = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [2, 0, 1]]
BOOK_RATE = [0.3033, 0.75 - 0.3033, 0.4035, 0.75 - 0.4035]
# section 5.5.3 (web.mit.edu/urban_or_book/www/book/chapter5/5.5.3.html): exact and approximate
BOOK_EXACT_WORKLOAD = [0.5574, 0.4734, 0.4693]
BOOK_APPROX_WORKLOAD = [0.5627, 0.4716, 0.4657]


def erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def distance_city(n_units: int, n_atoms: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    atoms, units = rng.random((n_atoms, 2)), rng.random((n_units, 2))
    distance = np.linalg.norm(units[:, None] - atoms[None], axis=2)
    return np.argsort(distance, axis=0).T, distance


def test_book_example_workloads_and_interarea_fraction() -> None:
    result = HypercubeModel.from_rates(BOOK_RATE, BOOK_PREFERENCE).solve()
    assert result.status == "converged"
    np.testing.assert_allclose(result.workload, BOOK_EXACT_WORKLOAD, atol=5e-4)
    # section 5.4.4: P'_Q = 0.23684 and 0.43529 of responses cross response areas
    assert result.prob_all_busy == pytest.approx(0.23684, abs=1e-5)
    assert result.interarea_fraction == pytest.approx(0.43529, abs=5e-4)
    assert result.dispatch_fraction.sum() == pytest.approx(1.0)


def test_book_correction_factors() -> None:
    # section 5.5.3: Q(3, 1/2, j) = 1, 0.73684, 0.63158
    q = correction_factors(3, 1.5, line="infinite")
    np.testing.assert_allclose(q, [1.0, 0.73684, 0.63158], atol=5e-6)


def test_book_example_approximation() -> None:
    result = ApproximateHypercube.from_rates(BOOK_RATE, BOOK_PREFERENCE).solve()
    assert result.status == "converged"
    np.testing.assert_allclose(result.workload, BOOK_APPROX_WORKLOAD, atol=1.5e-3)


def test_two_units_match_the_closed_form() -> None:
    # hand-derived: P00 mu + ... gives P01 (unit 0 busy) from the cut and balance equations
    lam_a, lam_b, mu = 0.3, 0.5, 1.0
    lam = lam_a + lam_b
    result = HypercubeModel.from_rates([lam_a, lam_b], [[0, 1], [1, 0]], line="zero").solve()
    # balance: (lam + mu) P10 = lam_a P00 + mu P11, with P11 = lam (P10 + P01) / (2 mu)
    p00 = 1.0 / (1 + lam / mu + lam**2 / (2 * mu**2))
    p_one = lam / mu * p00
    p11 = lam**2 / (2 * mu**2) * p00
    p10 = (lam_a * p00 + mu * p11) / (lam + mu)
    p = result.state_probability
    assert p is not None
    np.testing.assert_allclose(p, [p00, p10, p_one - p10, p11], rtol=1e-8)


@pytest.mark.parametrize("line", ["zero", "infinite"])
def test_identical_servers_one_atom_reduce_to_erlang(line: str) -> None:
    n_units, load = 5, 3.2
    result = HypercubeModel.from_rates([load], [list(range(n_units))], line=line).solve()
    expected = erlang_b(n_units, load) if line == "zero" else erlang_c(n_units, load)
    assert result.prob_all_busy == pytest.approx(expected, rel=1e-8)
    carried = load * (1 - expected) if line == "zero" else load
    assert result.workload.sum() == pytest.approx(carried, rel=1e-8)
    assert result.state_probability is not None
    assert result.state_probability.sum() == pytest.approx(1.0)


def test_symmetric_city_shares_the_load_evenly() -> None:
    n_units, load = 4, 2.0
    preference = [np.roll(np.arange(n_units), -k) for k in range(n_units)]
    result = HypercubeModel.from_rates([load / n_units] * n_units, preference, line="zero").solve()
    carried = load * (1 - erlang_b(n_units, load))
    np.testing.assert_allclose(result.workload, carried / n_units, rtol=1e-8)


@pytest.mark.parametrize("line", ["zero", "infinite"])
def test_kiosks_of_one_car_equal_the_hypercube(line: str) -> None:
    preference, distance = distance_city(5, 12, seed=3)
    rate = np.linspace(0.1, 0.5, 12)
    plain = HypercubeModel.from_rates(rate, preference, line=line, travel_time_s=distance).solve()
    kiosks = KioskHypercube.from_rates(
        rate, preference, cars_per_kiosk=[1] * 5, line=line, travel_time_s=distance
    ).solve()
    assert plain.state_probability is not None
    assert kiosks.state_probability is not None
    np.testing.assert_allclose(kiosks.state_probability, plain.state_probability, rtol=1e-9)
    np.testing.assert_allclose(kiosks.dispatch_fraction, plain.dispatch_fraction, rtol=1e-9)
    assert kiosks.mean_travel_time_s == pytest.approx(plain.mean_travel_time_s)


def generator_solution(rate: np.ndarray, preference: np.ndarray) -> np.ndarray:
    """Zero-line state probabilities from the dense generator (bit n of a state: car n busy)."""
    n_units = preference.shape[1]
    generator = np.zeros((1 << n_units, 1 << n_units))
    for s in range(1 << n_units):
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
    return np.linalg.solve(a, np.eye(1 << n_units)[-1])


def test_over_relaxed_sweeps_reach_the_direct_solution_in_fewer_sweeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    preference, _ = distance_city(9, 27, seed=11)
    rate = np.random.default_rng(11).random(27)
    rate *= 0.6 * 9 / rate.sum()
    direct = generator_solution(rate, preference)
    model = HypercubeModel.from_rates(rate, preference, line="zero")
    relaxed = model.solve()
    monkeypatch.setattr(hypercube, "RELAXATION", 1.0)
    plain = model.solve()
    assert relaxed.state_probability is not None
    assert plain.state_probability is not None
    assert relaxed.iterations < 0.8 * plain.iterations
    gap = np.abs(relaxed.state_probability - direct).max()
    assert gap <= np.abs(plain.state_probability - direct).max()
    assert gap < 1e-8 * direct.max()


def test_one_kiosk_is_erlang_c() -> None:
    result = KioskHypercube.from_rates([1.0, 1.4], [[0], [0]], cars_per_kiosk=[4]).solve()
    assert result.prob_all_busy == pytest.approx(erlang_c(4, 2.4), rel=1e-8)
    assert result.workload[0] == pytest.approx(2.4 / 4, rel=1e-8)


def test_kiosks_carry_the_offered_load() -> None:
    preference, _ = distance_city(3, 8, seed=5)
    rate = np.full(8, 0.6)
    result = KioskHypercube.from_rates(rate, preference, cars_per_kiosk=[2, 3, 1]).solve()
    assert result.workload @ np.array([2, 3, 1]) == pytest.approx(rate.sum(), rel=1e-8)
    assert result.dispatch_fraction.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("n_units", "line"), [(6, "infinite"), (9, "zero"), (12, "infinite")])
def test_approximation_is_close_to_the_exact_model(n_units: int, line: str) -> None:
    preference, _distance = distance_city(n_units, 3 * n_units, seed=n_units)
    rate = np.random.default_rng(n_units).random(3 * n_units)
    rate *= 0.55 * n_units / rate.sum()
    exact = HypercubeModel.from_rates(rate, preference, line=line).solve()
    approx = ApproximateHypercube.from_rates(rate, preference, line=line).solve()
    np.testing.assert_allclose(approx.workload, exact.workload, rtol=0.03, atol=0.01)
    assert approx.prob_all_busy == pytest.approx(exact.prob_all_busy, rel=1e-8)
    assert approx.dispatch_fraction.sum() == pytest.approx(1.0)


def test_home_areas_and_travel_time() -> None:
    result = HypercubeModel.from_rates(
        [1.0, 1.0],
        [[0, 1], [1, 0]],
        line="zero",
        home_atoms=[[0], [1]],
        travel_time_s=[[60.0, 300.0], [300.0, 60.0]],
    ).solve()
    assert result.interarea_fraction == pytest.approx(result.outside_home_share.mean())
    assert result.mean_travel_time_s == pytest.approx(60 + 240 * result.interarea_fraction)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"arrival_rate_per_h": [-1.0]}, "arrival rates"),
        ({"preference": [[0, 0]]}, "preference of atom 0"),
        ({"service_rate_per_h": 0.0}, "service_rate_per_h"),
        ({"line": "finite"}, "line must be"),
        ({"arrival_rate_per_h": [5.0]}, "below the service capacity"),
        ({"travel_time_s": [[1.0]]}, "travel_time_s must be"),
    ],
)
def test_invalid_inputs_name_the_rule(kwargs: dict[str, object], rule: str) -> None:
    args: dict[str, object] = {"arrival_rate_per_h": [1.0], "preference": [[0, 1]]}
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=rule):
        HypercubeModel.from_rates(**args)  # type: ignore[arg-type]


def test_kiosk_and_approximation_rules() -> None:
    with pytest.raises(InvalidInput, match="at least 1 car"):
        KioskHypercube.from_rates([1.0], [[0, 1]], cars_per_kiosk=[0, 2])
    with pytest.raises(InvalidInput, match="one service rate"):
        ApproximateHypercube.from_rates([1.0], [[0, 1]], service_rate_per_h=[1.0, 2.0])
