"""Maps of coverage: the roads reached within a time bound, one panel per set of sites."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from jiaoxun.data import OSM_ATTRIBUTION
from jiaoxun.geo.network import RoadNetwork
from jiaoxun.geo.snap import Snaps
from jiaoxun.planning.coverage import CoverageResult


def draw_coverage(
    network: RoadNetwork,
    maps: Sequence[tuple[str, CoverageResult, Snaps]],
    path: Path,
    *,
    minutes: float = 3,
) -> None:
    """Roads reached within `minutes` (blue) or not (red) from each set of sites, to a PNG."""
    once = np.flatnonzero(network.stretch_mask)
    segments = [network.edge_coords(int(e)) for e in once]
    fig, axes = plt.subplots(1, len(maps), figsize=(8 * len(maps), 7.5), dpi=100, squeeze=False)
    for ax, (title, result, sites) in zip(axes[0], maps, strict=True):
        both_ends = np.maximum(
            result.node_time_s[network.edge_tail[once]], result.node_time_s[network.edge_head[once]]
        )
        colours = np.where(both_ends <= minutes * 60, "#1f77b4", "#d62728")
        ax.add_collection(LineCollection(segments, colors=list(colours), linewidths=0.6))
        ax.scatter(
            sites.lon, sites.lat, marker="H", s=160, c="#222222", edgecolors="white", zorder=5
        )
        share = result.at(minutes)
        ax.set_title(f"{title}: {share.demand_share:.1%} of demand within {minutes:g} min (blue)")
        ax.set_aspect(1 / np.cos(np.radians(float(np.mean(network.node_lat)))))
        west, south, east, north = network.bounds()
        ax.set_xlim(west - 0.002, east + 0.002)
        ax.set_ylim(south - 0.002, north + 0.002)
        ax.tick_params(labelsize=7)
    fig.text(0.99, 0.01, f"Map data {OSM_ATTRIBUTION}", ha="right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
