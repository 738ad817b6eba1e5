"""Larson's approximation of the hypercube model: N equations instead of 2^N states.

Larson (1975, "Approximating the performance of urban emergency service systems", Operations
Research 23(5)) treats the cars as if they were busy independently, like coins tossed with
different biases, and repairs the error with one correction factor Q(N, rho, j) per preference
position: the chance that the first j cars of a list are busy and the next one is free is taken
as Q(N, rho, j) rho_1 ... rho_j (1 - rho_(j+1)). Q comes from the M/M/N queue (infinite line) or
the M/M/N/N loss system (zero line) with the mean workload rho, where it is exact for identical
cars; the workloads then solve N fixed-point equations, scaled each round so that they add up to
the carried load. It assumes one service rate for all cars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from jiaoxun.errors import InvalidInput
from jiaoxun.planning.hypercube import (
    Demand,
    Floats,
    HypercubeResult,
    check_capacity,
    demand_from_rates,
    summarise,
)


def busy_count_distribution(n_units: int, offered_load: float, *, line: str) -> Floats:
    """P(k cars busy), k = 0..N, of M/M/N/N (line "zero") or M/M/N (line "infinite").

    `offered_load` is lambda / mu in Erlangs; for "infinite" entry N is P(all N busy), the
    queue included.
    """
    k = np.arange(n_units + 1)
    log_p = k * np.log(offered_load) - gammaln(k + 1)
    if line == "infinite":
        # the queue tail: sum over q of (a/N)^q
        log_p[-1] -= np.log1p(-offered_load / n_units)
    p: Floats = np.exp(log_p - log_p.max())
    p /= p.sum()
    return p


def correction_factors(n_units: int, offered_load: float, *, line: str) -> Floats:
    """Larson's Q(N, rho, j), j = 0..N-1, with rho the mean workload.

    Q(N, rho, j) rho^j (1 - rho) is, for N identical cars, the probability that j given cars
    are busy and another given car is free: sum over k of P_k C(N-j-1, k-j) / C(N, k).
    """
    p = busy_count_distribution(n_units, offered_load, line=line)
    rho = float(p @ np.arange(n_units + 1)) / n_units
    q = np.zeros(n_units)
    for j in range(n_units):
        k = np.arange(j, n_units)
        log_ratio = (
            gammaln(n_units - j)
            - gammaln(k - j + 1)
            - gammaln(n_units - k)
            - gammaln(n_units + 1)
            + gammaln(k + 1)
            + gammaln(n_units - k + 1)
        )
        q[j] = float(p[k] @ np.exp(log_ratio)) / (rho**j * (1.0 - rho))
    return q


@dataclass(frozen=True, eq=False)
class ApproximateHypercube:
    """Larson's (1975) approximate hypercube model; fast for many cars (N = 27 and more)."""

    demand: Demand

    @classmethod
    def from_rates(
        cls,
        arrival_rate_per_h: npt.ArrayLike,
        preference: npt.ArrayLike,
        *,
        service_rate_per_h: float | npt.ArrayLike = 1.0,
        line: str = "infinite",
        home_atoms: Sequence[Sequence[int]] | None = None,
        travel_time_s: npt.ArrayLike | None = None,
    ) -> ApproximateHypercube:
        """Build the model; parameters as in `jiaoxun.planning.hypercube.demand_from_rates`."""
        demand = demand_from_rates(
            arrival_rate_per_h,
            preference,
            service_rate_per_h=service_rate_per_h,
            line=line,
            home_atoms=home_atoms,
            travel_time_s=travel_time_s,
        )
        mu = demand.service_rate_per_h
        if np.ptp(mu) > 1e-12 * mu[0]:
            raise InvalidInput(f"the approximation needs one service rate for all cars, got {mu}")
        check_capacity(demand, np.ones(len(mu), dtype=np.int64))
        return cls(demand)

    def solve(self, *, tolerance: float = 1e-10, max_iterations: int = 10_000) -> HypercubeResult:
        """Iterate the workload equations until no workload moves more than `tolerance`."""
        if tolerance <= 0 or max_iterations < 1:
            raise InvalidInput(
                f"tolerance (={tolerance}) must be > 0 and max_iterations (={max_iterations}) >= 1"
            )
        lam, pref = self.demand.arrival_rate_per_h, self.demand.preference
        line, mu = self.demand.line, float(self.demand.service_rate_per_h[0])
        n_units, total = pref.shape[1], float(lam.sum())
        p = busy_count_distribution(n_units, total / mu, line=line)
        q = correction_factors(n_units, total / mu, line=line)
        all_busy = float(p[-1])
        # workload from waiting calls, shared evenly by the cars (zero for a zero line)
        queued = total * all_busy / (n_units * mu) if line == "infinite" else 0.0
        carried = float(p @ np.arange(n_units + 1))
        rho = np.full(n_units, carried / n_units)
        change, rounds = np.inf, 0
        while rounds < max_iterations and change > tolerance:
            before = rho[pref]
            ahead = np.cumprod(np.hstack([np.ones((len(lam), 1)), before[:, :-1]]), axis=1)
            demand_per_h = (lam[:, None] * q[None, :] * ahead).ravel()
            v = np.bincount(pref.ravel(), weights=demand_per_h, minlength=n_units) / mu
            new = (queued + v) / (1.0 + v)
            # Larson's normalisation: the workloads must add up to the carried load
            new *= carried / new.sum()
            change = float(np.max(np.abs(new - rho)))
            rho, rounds = new, rounds + 1
        ahead = np.cumprod(np.hstack([np.ones((len(lam), 1)), rho[pref][:, :-1]]), axis=1)
        chance = q[None, :] * ahead * (1.0 - rho[pref])
        # scale each atom's chances to the share of its calls that are served at once
        chance *= (1.0 - all_busy) / chance.sum(axis=1, keepdims=True)
        fraction = np.zeros((n_units, len(lam)))
        np.add.at(fraction, (pref, np.arange(len(lam))[:, None]), lam[:, None] * chance)
        if line == "infinite":
            fraction += all_busy * lam[None, :] / n_units
            fraction /= total
        else:
            fraction /= total * (1.0 - all_busy)
        return summarise(
            self.demand,
            status="converged" if change <= tolerance else "max_iterations",
            iterations=rounds,
            residual=change,
            state_probability=None,
            workload=rho,
            dispatch_fraction=fraction,
            prob_all_busy=all_busy,
        )
