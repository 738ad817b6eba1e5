"""The node table: seconds from every road node to every other, kept for city-sized networks.

A search answers "how far from here to everywhere" in half a millisecond; the table answers it in
a few microseconds by looking the answer up. It costs n² float32 values (95 MB and 3 s to build
for the demo city's 4,874 nodes), so it is built once, saved next to the network cache and
memory-mapped at start. `TravelTimes.use_table` switches every query but `route` to it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from jiaoxun.geo.travel import TravelTimes


def node_table(travel_times: TravelTimes, *, chunk: int = 256) -> NDArray[np.float32]:
    """Seconds from every node to every node (n × n, float32; inf where there is no way)."""
    n = travel_times.network.n_nodes
    table = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        table[rows] = dijkstra(travel_times.forward, indices=rows)
    return table


def cached_table(travel_times: TravelTimes, base: Path) -> NDArray[np.float32]:
    """`node_table`, kept in ``<base>.table-<fingerprint>.npy`` and memory-mapped from there.

    The fingerprint is that of the graph, so a changed network never reads a stale table. A
    network with turn restrictions gets an empty table, which `TravelTimes.use_table` ignores:
    node-to-node times cannot know how a car came into a node.
    """
    net = travel_times.network
    if len(net.turn_ban):
        return np.empty((0, 0), dtype=np.float32)
    digest = hashlib.sha256()
    for array in (net.edge_tail, net.edge_head, net.edge_travel_time_s):
        digest.update(np.ascontiguousarray(array).tobytes())
    path = base.with_name(f"{base.name}.table-{digest.hexdigest()[:16]}.npy")
    if path.is_file():
        try:
            table: NDArray[np.float32] = np.load(path, mmap_mode="r")
            if table.shape == (net.n_nodes, net.n_nodes):
                return table
        except (OSError, ValueError):
            pass  # damaged: build it again
    for stale in base.parent.glob(f"{base.name}.table-*.npy"):
        stale.unlink(missing_ok=True)
    table = node_table(travel_times)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        np.save(out, table)
    tmp.replace(path)
    return table
