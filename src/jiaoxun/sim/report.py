"""Figures of simulation runs: response-time distribution, 1-3-5 compliance with confidence
intervals over replications, car utilisation, cross-zone dispatches, queue waits; and a plot
of the response-time distributions of several scenarios."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from jiaoxun.sim.model import Run


@dataclass(frozen=True)
class Interval:
    """A mean over replications and its 95 % confidence interval (Student's t)."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Interval:
        data = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
        if len(data) == 0:
            return cls(math.nan, math.nan, math.nan)
        mean = float(data.mean())
        if len(data) < 2:
            return cls(mean, mean, mean)
        half = float(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))
        return cls(mean, mean - half, mean + half)


@dataclass(frozen=True)
class Summary:
    scenario: str
    replications: int
    days: float
    incidents: float
    response_mean_s: Interval
    response_p50_s: Interval
    response_p90_s: Interval
    compliance: dict[str, Interval]  # per tier, met from the call, of the calls it applies to
    utilisation: Interval
    cross_zone_share: Interval
    queue_wait_mean_s: Interval
    unanswered_share: Interval

    def as_json(self) -> dict[str, Any]:
        def iv(i: Interval) -> dict[str, Any]:
            return {"mean": round(i.mean, 4), "ci95": [round(i.low, 4), round(i.high, 4)]}

        return {
            "scenario": self.scenario,
            "replications": self.replications,
            "days": self.days,
            "incidents": round(self.incidents, 1),
            "response_mean_s": round(self.response_mean_s.mean, 1),
            "response_p50_s": round(self.response_p50_s.mean, 1),
            "response_p90_s": round(self.response_p90_s.mean, 1),
            "response_p50_s_ci95": iv(self.response_p50_s)["ci95"],
            "compliance": {tier: iv(i) for tier, i in self.compliance.items()},
            "utilisation": iv(self.utilisation),
            "cross_zone_share": iv(self.cross_zone_share),
            "queue_wait_mean_s": iv(self.queue_wait_mean_s),
            "unanswered_share": iv(self.unanswered_share),
        }


def responses_s(run: Run) -> np.ndarray:
    return np.array([o.response_s for o in run.incidents if o.response_s is not None])


def summarise(runs: Sequence[Run]) -> Summary:
    """Figures of the replications `runs` of one scenario."""
    per_run: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        per_run.setdefault(key, []).append(value)

    for run in runs:
        r = responses_s(run)
        add("incidents", len(run.incidents))
        add("mean", float(r.mean()) if len(r) else math.nan)
        add("p50", float(np.percentile(r, 50)) if len(r) else math.nan)
        add("p90", float(np.percentile(r, 90)) if len(r) else math.nan)
        for i, tier in enumerate(run.tiers):
            judged = [bool(o.verdicts[i]) for o in run.incidents if o.verdicts[i] is not None]
            add(tier.name, float(np.mean(judged)) if judged else math.nan)
        add("utilisation", float(np.mean(run.utilisation)))
        sent = sum(o.units_sent for o in run.incidents)
        add("cross", sum(o.cross_zone for o in run.incidents) / sent if sent else math.nan)
        add("wait", float(np.nanmean([o.queue_wait_s for o in run.incidents])))
        add("unanswered", float(np.mean([o.response_s is None for o in run.incidents])))
    return Summary(
        scenario=runs[0].scenario,
        replications=len(runs),
        days=runs[0].days,
        incidents=float(np.mean(per_run["incidents"])),
        response_mean_s=Interval.of(per_run["mean"]),
        response_p50_s=Interval.of(per_run["p50"]),
        response_p90_s=Interval.of(per_run["p90"]),
        compliance={t.name: Interval.of(per_run[t.name]) for t in runs[0].tiers},
        utilisation=Interval.of(per_run["utilisation"]),
        cross_zone_share=Interval.of(per_run["cross"]),
        queue_wait_mean_s=Interval.of(per_run["wait"]),
        unanswered_share=Interval.of(per_run["unanswered"]),
    )


def plot_responses(runs_by_scenario: Mapping[str, Sequence[Run]], path: Path) -> None:
    """Response-time distributions (call → first car on scene) as cumulative curves, with the
    1, 3 and 5 minute marks."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, runs in runs_by_scenario.items():
        minutes = np.sort(np.concatenate([responses_s(r) for r in runs])) / 60.0
        ax.plot(minutes, np.arange(1, len(minutes) + 1) / len(minutes), label=name, linewidth=2)
    for bound in (1, 3, 5):
        ax.axvline(bound, color="#888888", linestyle=":", linewidth=1)
    ax.set_xlim(0, 20)
    ax.set_ylim(0, 1)
    ax.set_xlabel("minutes from the call to the first car on scene")
    ax.set_ylabel("share of incidents")
    ax.set_title("Response times, simulated on the demo city's roads")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
