"""Draw the city's layout as a map picture: roads, zones, kiosks, patrol lines and points.

Drawn from the city's own data with Matplotlib (no tile server): a command center on a closed
network can still print its map. Labels are zone codes, which every font can show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.collections import LineCollection

from jiaoxun.data import OSM_ATTRIBUTION
from jiaoxun.geo.network import RoadNetwork

_POINT_MARKERS = {
    "school": "^",
    "hospital": "P",
    "square": "s",
    "station": "D",
    "bank": "p",
    "market": "o",
    "key_site": "*",
}


def road_segments(network: RoadNetwork) -> list[Any]:
    edges = np.flatnonzero(network.stretch_mask)
    return [network.edge_coords(int(e)) for e in edges]


def draw_city(network: RoadNetwork, layout: dict[str, Any], path: Path, *, title: str) -> None:
    """Write a PNG map of `layout` (the GeoJSON of `city export`) over `network` to `path`."""
    features = layout["features"]
    fig, ax = plt.subplots(figsize=(11, 9.5), dpi=110)
    colours = plt.get_cmap("tab10")
    zones = [f for f in features if f["properties"]["layer"] == "zone"]
    zone_index = {f["properties"]["code"]: i for i, f in enumerate(zones)}
    for i, feature in enumerate(zones):
        geometry = shapely.geometry.shape(feature["geometry"])
        for polygon in getattr(geometry, "geoms", [geometry]):
            x, y = polygon.exterior.xy
            ax.fill(x, y, color=colours(i % 10), alpha=0.16, linewidth=0)
            ax.plot(x, y, color=colours(i % 10), linewidth=0.8, alpha=0.8)
        centre = geometry.representative_point()
        code = feature["properties"]["code"]
        ax.annotate(
            code,
            (centre.x, centre.y),
            fontsize=10,
            weight="bold",
            ha="center",
            color=colours(i % 10),
            alpha=0.9,
        )
    ax.add_collection(LineCollection(road_segments(network), colors="#999999", linewidths=0.35))
    for feature in features:
        props, coords = feature["properties"], feature["geometry"]["coordinates"]
        if props["layer"] == "patrol_line":
            line = np.array(coords)
            colour = colours(zone_index[props["zone"]] % 10)
            ax.plot(line[:, 0], line[:, 1], color=colour, linewidth=2.2, solid_capstyle="round")
    for kind, marker in _POINT_MARKERS.items():
        pts = np.array(
            [
                f["geometry"]["coordinates"]
                for f in features
                if f["properties"]["layer"] == "patrol_point" and f["properties"]["kind"] == kind
            ]
        ).reshape(-1, 2)
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            marker=marker,
            s=42,
            c="#222222",
            label=f"patrol point: {kind}",
            zorder=4,
        )
    kiosks = np.array(
        [f["geometry"]["coordinates"] for f in features if f["properties"]["layer"] == "kiosk"]
    ).reshape(-1, 2)
    ax.scatter(
        kiosks[:, 0],
        kiosks[:, 1],
        marker="H",
        s=220,
        c="#c0392b",
        edgecolors="white",
        linewidths=1.5,
        label="kiosk",
        zorder=5,
    )
    ax.plot([], [], color="#555555", linewidth=2.2, label="mandatory patrol line")
    ax.set_aspect(1 / np.cos(np.radians(float(np.mean(network.node_lat)))))
    west, south, east, north = network.bounds()
    ax.set_xlim(west - 0.002, east + 0.002)
    ax.set_ylim(south - 0.002, north + 0.002)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    ax.text(
        1.0, -0.06, f"Map data {OSM_ATTRIBUTION}", transform=ax.transAxes, ha="right", fontsize=8
    )
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
