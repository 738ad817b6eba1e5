"""Hypercube queueing models: how busy each patrol car is, and who answers which call.

Larson's hypercube model (Larson 1974; Larson & Odoni, *Urban Operations Research*, 1981,
chapter 5) treats a fleet like a row of light switches: each car is on (busy) or off (free), and
the state of the fleet is the pattern of switches, a corner of an N-dimensional cube. Calls come
from atoms (small demand areas) as Poisson streams; each atom has a dispatch preference list and
gets the first free car on it. Service times are exponential. With a zero-length line a call
that finds every car busy is lost; with an infinite line it waits, first come first served, and
the queue beyond the all-busy corner is the tail of an M/M/N birth-death chain.

`KioskHypercube` is the same model with interchangeable cars: a kiosk with c cars is one
"switch" with c + 1 positions (0 to c cars busy), so the state space is a lattice instead of a
cube; `HypercubeModel` is the case of one car per kiosk. The balance equations are solved by
Gauss-Seidel sweeps ordered by the number of busy cars, as Larson suggests: states with the same
number of busy cars never exchange probability directly, so each level is updated at once,
and over-relaxed (successive over-relaxation, `RELAXATION`).

All rates are per hour (any one time unit will do if used throughout); travel times in seconds.
The approximation of Larson (1975) lives in `jiaoxun.planning.hypercube_approx`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix

from jiaoxun.errors import InvalidInput

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: Queue capacities the models know: calls finding every car busy are lost, or wait in line.
LINES = ("zero", "infinite")
#: Largest state space the exact models accept (2^22 states, about 4 million).
MAX_STATES = 1 << 22
#: Over-relaxation of the Gauss-Seidel sweeps (SOR): each level moves 1.4 times the way plain
#: Gauss-Seidel would. Measured on cubes of 12-18 cars and kiosk lattices at loads 0.3-0.95,
#: it takes 0.55-0.7 of the sweeps to the same tolerance, and ends nearer the exact solution;
#: 1.6 and over take more sweeps again.
RELAXATION = 1.4


@dataclass(frozen=True, eq=False)
class HypercubeResult:
    """Steady state of a hypercube model; "unit" is a car, or a kiosk for `KioskHypercube`.

    Attributes
    ----------
    status : "converged", or "max_iterations" when the tolerance was not reached.
    iterations : Gauss-Seidel sweeps (or fixed-point rounds of the approximation) run.
    residual : L1 norm of the balance-equation residual (exact), or the last change of the
        workloads (approximation); dimensionless.
    line : "zero" or "infinite".
    state_probability : probability of each state (None for the approximation). State index
        s = sum_k b_k * prod_(i<k) (c_i + 1) with b_k busy cars of unit k; for one car per unit
        bit n of s is unit n. The all-busy state holds the whole queue tail for "infinite".
    workload : fraction of time each unit's cars are busy (rho_n), shape (N,).
    dispatch_fraction : f_nj, fraction of all dispatches that send unit n to atom j, shape
        (N, J); sums to 1.
    prob_all_busy : probability that a call finds every car busy (is lost for "zero", waits
        for "infinite").
    interarea_fraction : fraction of dispatches that send a unit outside its home atoms.
    outside_home_share : per unit, fraction of its own dispatches outside its home atoms.
    mean_travel_time_s : sum of f_nj t_nj in seconds, or None without a travel-time matrix.
    """

    status: str
    iterations: int
    residual: float
    line: str
    state_probability: Floats | None
    workload: Floats
    dispatch_fraction: Floats
    prob_all_busy: float
    interarea_fraction: float
    outside_home_share: Floats
    mean_travel_time_s: float | None


@dataclass(frozen=True, eq=False)
class Demand:
    """Validated inputs shared by every hypercube model (see `demand_from_rates`)."""

    arrival_rate_per_h: Floats
    preference: Ints
    service_rate_per_h: Floats
    line: str
    home: npt.NDArray[np.bool_]
    travel_time_s: Floats | None


def demand_from_rates(
    arrival_rate_per_h: npt.ArrayLike,
    preference: npt.ArrayLike,
    *,
    service_rate_per_h: float | npt.ArrayLike = 1.0,
    line: str = "infinite",
    home_atoms: Sequence[Sequence[int]] | None = None,
    travel_time_s: npt.ArrayLike | None = None,
) -> Demand:
    """Check the inputs of a hypercube model; raise `InvalidInput` naming the rule and value.

    Parameters
    ----------
    arrival_rate_per_h : calls per hour from each of the J atoms, >= 0, total > 0.
    preference : (J, N) integers; row j orders all N units (a permutation of 0..N-1).
    service_rate_per_h : calls per hour one car finishes (1 / mean service time), one value or
        one per unit, > 0.
    line : "zero" (calls finding all busy are lost) or "infinite" (they wait, FCFS).
    home_atoms : atoms of each unit's home area; default the atoms that prefer it first.
    travel_time_s : (N, J) seconds from unit n's position to atom j, >= 0.
    """
    lam = np.asarray(arrival_rate_per_h, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise InvalidInput(f"arrival_rate_per_h must be a non-empty 1-D array, shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0) or lam.sum() <= 0:
        raise InvalidInput(f"arrival rates must be finite, >= 0 and not all 0, got {lam}")
    pref = np.asarray(preference)
    if pref.ndim != 2 or pref.shape[0] != lam.size or not np.issubdtype(pref.dtype, np.integer):
        raise InvalidInput(
            f"preference must be an integer ({lam.size}, N) array, shape {pref.shape} {pref.dtype}"
        )
    n_units = pref.shape[1]
    bad = [j for j, row in enumerate(pref) if sorted(row.tolist()) != list(range(n_units))]
    if bad:
        raise InvalidInput(f"preference of atom {bad[0]} must order units 0..{n_units - 1}")
    mu = np.broadcast_to(np.asarray(service_rate_per_h, dtype=np.float64), (n_units,)).copy()
    if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
        raise InvalidInput(f"service_rate_per_h must be finite and > 0, got {mu}")
    if line not in LINES:
        raise InvalidInput(f"line must be one of {LINES}, got {line!r}")
    home = np.zeros((n_units, lam.size), dtype=bool)
    if home_atoms is None:
        home[pref[:, 0], np.arange(lam.size)] = True
    elif len(home_atoms) != n_units:
        raise InvalidInput(f"home_atoms needs one list per unit ({n_units}), got {len(home_atoms)}")
    else:
        for n, atoms in enumerate(home_atoms):
            idx = np.asarray(atoms, dtype=np.int64)
            if np.any((idx < 0) | (idx >= lam.size)):
                raise InvalidInput(f"home atoms of unit {n} must lie in 0..{lam.size - 1}: {atoms}")
            home[n, idx] = True
    travel = None
    if travel_time_s is not None:
        travel = np.asarray(travel_time_s, dtype=np.float64)
        if travel.shape != (n_units, lam.size):
            raise InvalidInput(f"travel_time_s must be ({n_units}, {lam.size}), got {travel.shape}")
        if not np.all(np.isfinite(travel)) or np.any(travel < 0):
            raise InvalidInput("travel_time_s must be finite and >= 0")
    return Demand(lam, pref.astype(np.int64), mu, line, home, travel)


def check_capacity(demand: Demand, capacity: Ints) -> None:
    """An infinite line is stable only if calls arrive slower than all cars finish them."""
    total_rate_per_h = float(capacity @ demand.service_rate_per_h)
    offered = float(demand.arrival_rate_per_h.sum())
    if demand.line == "infinite" and offered >= total_rate_per_h:
        raise InvalidInput(
            f"arrival rate {offered:g}/h must be below the service capacity "
            f"{total_rate_per_h:g}/h for an infinite line"
        )


def summarise(
    demand: Demand,
    *,
    status: str,
    iterations: int,
    residual: float,
    state_probability: Floats | None,
    workload: Floats,
    dispatch_fraction: Floats,
    prob_all_busy: float,
) -> HypercubeResult:
    """Derive the area and travel-time measures from the dispatch fractions."""
    outside = np.where(demand.home, 0.0, dispatch_fraction)
    per_unit = dispatch_fraction.sum(axis=1)
    share = np.divide(
        outside.sum(axis=1), per_unit, out=np.zeros_like(per_unit), where=per_unit > 0
    )
    travel = demand.travel_time_s
    return HypercubeResult(
        status=status,
        iterations=iterations,
        residual=residual,
        line=demand.line,
        state_probability=state_probability,
        workload=workload,
        dispatch_fraction=dispatch_fraction,
        prob_all_busy=prob_all_busy,
        interarea_fraction=float(outside.sum()),
        outside_home_share=share,
        mean_travel_time_s=None if travel is None else float((dispatch_fraction * travel).sum()),
    )


class _Lattice:
    """States of K units with capacity c_k each, their transition rates and the solver."""

    def __init__(self, demand: Demand, capacity: Ints) -> None:
        self.demand, self.capacity = demand, capacity
        radix = capacity + 1
        self.stride = np.concatenate(([1], np.cumprod(radix)[:-1])).astype(np.int64)
        n_states = int(np.prod(radix))
        # one row per unit (contiguous for the per-unit gathers): busy cars, a car free, and
        # the rate of calls sent to the unit, in each state
        self.busy = (np.arange(n_states) // self.stride[:, None]) % radix[:, None]
        self.has_free = self.busy < capacity[:, None]
        self.up = np.zeros(self.busy.shape)
        lam = demand.arrival_rate_per_h
        for j, k, states in self.dispatches():
            self.up[k, states] += lam[j]

    def dispatches(self) -> Iterator[tuple[int, int, Ints]]:
        """Yield (atom j, unit k, states in which a call from j goes to k)."""
        every = np.arange(self.busy.shape[1])
        for j, order in enumerate(self.demand.preference):
            rest = every
            for k in order:
                free = self.has_free[k][rest]
                yield j, int(k), rest[free]
                rest = rest[~free]
                if rest.size == 0:
                    break

    def solve(self, tolerance: float, max_iterations: int) -> tuple[Floats, int, float, bool]:
        """Level-ordered Gauss-Seidel; returns (p, sweeps, residual, converged)."""
        mu, busy, stride = self.demand.service_rate_per_h, self.busy, self.stride
        n_units, n_states = busy.shape
        out = self.up.sum(axis=0) + mu @ busy
        level = busy.sum(axis=0)
        # states renumbered level by level, so that each level is a slice of the vector
        order = np.argsort(level, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(n_states)
        bounds = np.searchsorted(level[order], np.arange(int(level.max()) + 2))
        # inflow into s: an arrival in s - e_k sent to k, or a car of k finishing in s + e_k
        rows, cols, rates = [], [], []
        for k in range(n_units):
            busy_k = busy[k]
            into = np.flatnonzero(busy_k > 0)
            rate = self.up[k][into - stride[k]]
            sent = rate > 0
            rows.append(into[sent])
            cols.append(into[sent] - stride[k])
            rates.append(rate[sent])
            into = np.flatnonzero(self.has_free[k])
            rows.append(into)
            cols.append(into + stride[k])
            rates.append((busy_k[into] + 1) * mu[k])
        inflow = coo_matrix(
            (np.concatenate(rates), (rank[np.concatenate(rows)], rank[np.concatenate(cols)])),
            shape=(n_states, n_states),
        ).tocsr()
        out_ordered = out[order]
        levels = [(int(a), int(b), inflow[int(a) : int(b)]) for a, b in itertools.pairwise(bounds)]
        # start from the Erlang loss distribution of the levels, spread evenly within a level
        offered = self.demand.arrival_rate_per_h.sum() / np.mean(mu)
        counts = np.diff(bounds).astype(np.float64)
        log_level = np.array(
            [k * np.log(offered) - np.sum(np.log(np.arange(1, k + 1))) for k in range(len(counts))]
        )
        level_p = np.exp(log_level - log_level.max())
        q = np.repeat(level_p / counts, np.diff(bounds))
        q /= q.sum()
        converged, sweep = False, 0
        before, change = np.empty_like(q), np.empty_like(q)
        while sweep < max_iterations and not converged:
            np.copyto(before, q)
            for a, b, block in levels if sweep % 2 == 0 else levels[::-1]:
                q[a:b] += RELAXATION * ((block @ q) / out_ordered[a:b] - q[a:b])
            q /= q.sum()
            sweep += 1
            np.abs(np.subtract(q, before, out=change), out=change)
            converged = float(change.max()) <= tolerance * float(q.max())
        residual = float(np.abs(inflow @ q - out_ordered * q).sum())
        p = np.empty_like(q)
        p[order] = q
        return p, sweep, residual, converged


def solve_lattice(
    demand: Demand, capacity: Ints, *, tolerance: float, max_iterations: int
) -> HypercubeResult:
    """Solve the exact model of units with `capacity` cars each; see `HypercubeResult`."""
    if tolerance <= 0 or max_iterations < 1:
        raise InvalidInput(
            f"tolerance (={tolerance}) must be > 0 and max_iterations (={max_iterations}) >= 1"
        )
    lattice = _Lattice(demand, capacity)
    p, sweeps, residual, converged = lattice.solve(tolerance, max_iterations)
    lam, mu = demand.arrival_rate_per_h, demand.service_rate_per_h
    total = float(lam.sum())
    full = len(p) - 1
    total_rate_per_h = capacity * mu
    if demand.line == "infinite":
        # the queue tail hangs off the all-busy state: P(full, q calls waiting) = P_full r^q
        p[full] /= 1.0 - total / float(total_rate_per_h.sum())
        p /= p.sum()
    fraction = np.zeros((len(capacity), len(lam)))
    for j, k, states in lattice.dispatches():
        fraction[k, j] += lam[j] * p[states].sum()
    if demand.line == "infinite":
        # a waiting call goes to whichever car frees first
        fraction += np.outer(total_rate_per_h / total_rate_per_h.sum(), lam) * p[full]
        fraction /= total
    else:
        fraction /= total * (1.0 - p[full])
    return summarise(
        demand,
        status="converged" if converged else "max_iterations",
        iterations=sweeps,
        residual=residual,
        state_probability=p,
        workload=(lattice.busy @ p) / capacity,
        dispatch_fraction=fraction,
        prob_all_busy=float(p[full]),
    )


@dataclass(frozen=True, eq=False)
class HypercubeModel:
    """Larson's exact hypercube model of N distinguishable cars (2^N states)."""

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
    ) -> HypercubeModel:
        """Build the model; the parameters are those of `demand_from_rates`."""
        demand = demand_from_rates(
            arrival_rate_per_h,
            preference,
            service_rate_per_h=service_rate_per_h,
            line=line,
            home_atoms=home_atoms,
            travel_time_s=travel_time_s,
        )
        n_units = demand.preference.shape[1]
        if 1 << n_units > MAX_STATES:
            raise InvalidInput(f"{n_units} units exceed the exact model's limit of 22 units")
        check_capacity(demand, np.ones(n_units, dtype=np.int64))
        return cls(demand)

    def solve(self, *, tolerance: float = 1e-10, max_iterations: int = 10_000) -> HypercubeResult:
        """Solve the balance equations to a relative change of `tolerance` per sweep."""
        capacity = np.ones(self.demand.preference.shape[1], dtype=np.int64)
        return solve_lattice(
            self.demand, capacity, tolerance=tolerance, max_iterations=max_iterations
        )


@dataclass(frozen=True, eq=False)
class KioskHypercube:
    """Exact model of K kiosks whose c_k cars are interchangeable (prod (c_k + 1) states)."""

    demand: Demand
    cars_per_kiosk: Ints

    @classmethod
    def from_rates(
        cls,
        arrival_rate_per_h: npt.ArrayLike,
        preference: npt.ArrayLike,
        *,
        cars_per_kiosk: Sequence[int] | npt.ArrayLike,
        service_rate_per_h: float | npt.ArrayLike = 1.0,
        line: str = "infinite",
        home_atoms: Sequence[Sequence[int]] | None = None,
        travel_time_s: npt.ArrayLike | None = None,
    ) -> KioskHypercube:
        """Build the model; `preference` orders kiosks, `service_rate_per_h` is per car."""
        demand = demand_from_rates(
            arrival_rate_per_h,
            preference,
            service_rate_per_h=service_rate_per_h,
            line=line,
            home_atoms=home_atoms,
            travel_time_s=travel_time_s,
        )
        cars = np.asarray(cars_per_kiosk)
        n_kiosks = demand.preference.shape[1]
        if cars.shape != (n_kiosks,) or not np.issubdtype(cars.dtype, np.integer):
            raise InvalidInput(f"cars_per_kiosk must be {n_kiosks} integers, got {cars}")
        if np.any(cars < 1):
            raise InvalidInput(f"every kiosk needs at least 1 car, got {cars.tolist()}")
        n_states = float(np.prod(cars.astype(np.float64) + 1))
        if n_states > MAX_STATES:
            raise InvalidInput(f"{n_states:.0f} states exceed the limit of {MAX_STATES}")
        check_capacity(demand, cars.astype(np.int64))
        return cls(demand, cars.astype(np.int64))

    def solve(self, *, tolerance: float = 1e-10, max_iterations: int = 10_000) -> HypercubeResult:
        """Solve the balance equations; workloads and dispatch fractions are per kiosk."""
        return solve_lattice(
            self.demand, self.cars_per_kiosk, tolerance=tolerance, max_iterations=max_iterations
        )
