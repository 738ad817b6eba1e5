"""The maximal covering location problem (Church & ReVelle 1974): where `p` kiosks (or cars)
should stand to cover as much demand as possible within a service time.

Like placing lifeguard towers on a beach: each tower watches the stretch it can reach in time,
and the towers go where they watch the most swimmers. `MaximalCovering` builds the problem from a
cost matrix (or from road travel times) and solves it as an integer programme with OR-Tools
(CP-SAT, or SCIP through its model builder); the solver's status is checked at once.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from ortools.linear_solver.python import model_builder as mb
from ortools.sat.python import cp_model

from jiaoxun.errors import InvalidInput, SolverFailed
from jiaoxun.geo.network import Floats
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.planning.coverage import checked_weight, road_node_weight, take

Solver = Literal["cp-sat", "scip"]
SOLVERS: tuple[Solver, ...] = ("cp-sat", "scip")


@dataclass(frozen=True, eq=False)
class MaximalCoveringResult:
    """A solved maximal covering problem.

    Attributes
    ----------
    status : the solver's status, "OPTIMAL" or "FEASIBLE" (a time limit cut the proof short).
    solver : the backend used, "cp-sat" or "scip".
    objective : demand covered within the service time, in the units of `demand`.
    sites : indices of the chosen candidates (rows of the cost matrix), ascending.
    covered : for each demand point, whether a chosen site reaches it within the service time.
    coverage_share : `objective` over the total demand, in [0, 1].
    solve_time_s : wall-clock seconds the solver ran.
    """

    status: str
    solver: Solver
    objective: float
    sites: tuple[int, ...]
    covered: NDArray[np.bool_]
    coverage_share: float
    solve_time_s: float


@dataclass(frozen=True, eq=False)
class MaximalCovering:
    """Maximal covering location problem (Church & ReVelle 1974).

    Choose exactly `p` sites among the candidates to maximise the demand that some chosen site
    reaches within `service_s`: maximise sum_j w_j y_j subject to sum_i x_i = p and
    y_j <= sum_{i covers j} x_i, with x, y binary. Demand points that no candidate reaches are
    left out, and points that the same candidates reach are merged into one, summing their
    demand: the optimum is the same and the model far smaller.

    Attributes
    ----------
    reach : (candidates, demand points) whether candidate i reaches point j within `service_s`.
    demand : demand per point (non-negative).
    service_s : the service time in seconds.
    p : the number of sites to choose.
    """

    reach: NDArray[np.bool_]
    demand: Floats
    service_s: float
    p: int

    @classmethod
    def from_cost_matrix(
        cls, cost_s: Floats, demand: Floats, *, service_s: float, p: int
    ) -> MaximalCovering:
        """Build the problem from travel times.

        Parameters
        ----------
        cost_s : (candidates, demand points) seconds from each candidate site to each demand
            point; inf where there is no way.
        demand : expected demand at each point, >= 0.
        service_s : the service time in seconds, > 0; a point is covered at cost <= service_s.
        p : the number of sites to choose, 1 <= p <= candidates.
        """
        cost = np.asarray(cost_s, dtype=np.float64)
        weight = checked_weight(demand)
        if cost.ndim != 2 or cost.shape[1] != len(weight):
            raise InvalidInput(
                f"cost_s of shape {cost.shape} must be (candidates, {len(weight)} demand points)"
            )
        if np.any(np.isnan(cost)) or np.any(cost < 0):
            raise InvalidInput("cost_s must hold seconds >= 0 (inf where there is no way)")
        if not (math.isfinite(service_s) and service_s > 0):
            raise InvalidInput(f"service_s(={service_s}) must be a finite number > 0")
        if not 1 <= p <= cost.shape[0]:
            raise InvalidInput(f"p(={p}) must be between 1 and the {cost.shape[0]} candidates")
        return cls(reach=cost <= service_s, demand=weight, service_s=float(service_s), p=int(p))

    @classmethod
    def from_travel_times(
        cls,
        travel_times: TravelTimes,
        candidates: Snaps,
        *,
        service_s: float,
        p: int,
        node_weight: Floats | None = None,
    ) -> MaximalCovering:
        """Build the problem on the road: candidates are snapped points, demand points nodes.

        Parameters
        ----------
        travel_times : the network and its travel-time searches.
        candidates : the candidate sites, snapped to the road.
        service_s : the service time in seconds, > 0.
        p : the number of sites to choose.
        node_weight : demand per node; by default `road_node_weight` (metres of road).

        One search per candidate, cut off at `service_s` (or a look-up in the node table).
        """
        if not (math.isfinite(service_s) and service_s > 0):
            raise InvalidInput(f"service_s(={service_s}) must be a finite number > 0")
        network = travel_times.network
        weight = road_node_weight(network) if node_weight is None else node_weight
        cost = np.vstack(
            [
                travel_times.nearest_origin(take(candidates, [i]), limit_s=service_s)[0]
                for i in range(len(candidates))
            ]
        ).reshape(len(candidates), network.n_nodes)
        return cls.from_cost_matrix(cost, weight, service_s=service_s, p=p)

    def solve(
        self, solver: Solver = "scip", *, time_limit_s: float = 60.0
    ) -> MaximalCoveringResult:
        """Solve with OR-Tools' CP-SAT or, through its model builder, SCIP.

        Raises `SolverFailed` naming the status unless the solver proves the optimum or, out of
        time, returns a feasible solution (status "FEASIBLE").
        """
        if solver not in SOLVERS:
            raise InvalidInput(f"solver(={solver!r}) must be one of {SOLVERS}")
        if not time_limit_s > 0:
            raise InvalidInput(f"time_limit_s(={time_limit_s}) must be > 0")
        reach, weight = self._merged()
        start = time.perf_counter()
        if solver == "cp-sat":
            status, chosen = _solve_cp_sat(reach, weight, self.p, time_limit_s)
        else:
            status, chosen = _solve_scip(reach, weight, self.p, time_limit_s)
        elapsed = time.perf_counter() - start
        sites = tuple(int(i) for i in np.flatnonzero(chosen))
        covered = np.asarray(self.reach[list(sites)].any(axis=0), dtype=bool)
        objective = float(self.demand[covered].sum())
        total = float(self.demand.sum())
        return MaximalCoveringResult(
            status=status,
            solver=solver,
            objective=objective,
            sites=sites,
            covered=covered,
            coverage_share=objective / total if total > 0 else 0.0,
            solve_time_s=elapsed,
        )

    def _merged(self) -> tuple[NDArray[np.bool_], Floats]:
        """The reach matrix without uncoverable or weightless points, equal columns merged."""
        useful = self.reach.any(axis=0) & (self.demand > 0)
        reach, weight = self.reach[:, useful], self.demand[useful]
        if reach.shape[1] == 0:
            return reach, weight
        _, first, inverse = np.unique(
            np.packbits(reach, axis=0).T, axis=0, return_index=True, return_inverse=True
        )
        merged = np.bincount(inverse.ravel(), weights=weight, minlength=len(first))
        return reach[:, first], np.asarray(merged, dtype=np.float64)


def _solve_cp_sat(
    reach: NDArray[np.bool_], weight: Floats, p: int, time_limit_s: float
) -> tuple[str, NDArray[np.bool_]]:
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(reach.shape[0])]
    y = [model.new_bool_var(f"y{j}") for j in range(reach.shape[1])]
    model.add(sum(x) == p)
    for j in range(reach.shape[1]):
        model.add(y[j] <= sum(x[int(i)] for i in np.flatnonzero(reach[:, j])))
    model.maximize(sum(float(w) * v for w, v in zip(weight, y, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 8
    code = solver.solve(model)
    status = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverFailed(f"CP-SAT ended with status {status}; no covering to return")
    return status, np.array([solver.value(v) for v in x], dtype=bool)


def _solve_scip(
    reach: NDArray[np.bool_], weight: Floats, p: int, time_limit_s: float
) -> tuple[str, NDArray[np.bool_]]:
    model = mb.Model()  # type: ignore[no-untyped-call]  # OR-Tools leaves __init__ unannotated
    x = [model.new_bool_var(f"x{i}") for i in range(reach.shape[0])]
    # y may be continuous: at the optimum it is 1 wherever a chosen site covers the point
    y = [model.new_num_var(0.0, 1.0, f"y{j}") for j in range(reach.shape[1])]
    model.add(mb.LinearExpr.sum(x) == p)
    for j in range(reach.shape[1]):
        model.add(y[j] <= mb.LinearExpr.sum([x[int(i)] for i in np.flatnonzero(reach[:, j])]))
    model.maximize(mb.LinearExpr.weighted_sum(y, [float(w) for w in weight]))
    solver = mb.Solver("scip")
    if not solver.solver_is_supported():
        raise SolverFailed("this OR-Tools build has no SCIP backend")
    solver.set_time_limit_in_seconds(time_limit_s)
    code = solver.solve(model)
    if code not in (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE):
        raise SolverFailed(f"SCIP ended with status {code.name}; no covering to return")
    return code.name, np.array([solver.value(v) > 0.5 for v in x], dtype=bool)
