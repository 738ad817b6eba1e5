"""Crop the Harbin OpenStreetMap extract to the demo city shipped with jiaoxun.

The demo city is central Harbin (Nangang, Daoli, Xiangfang) inside 126.60–126.70 E,
45.715–45.775 N: about 7.8 km × 6.7 km, the size of Baicheng's built-up area, so that 9 kiosks
with 3 cars each police a city of the scale the article describes. Nodes outside the box are
dropped; a way keeps its longest run of consecutive nodes inside the box. Relations are dropped.
Deterministic: the same source gives the same file.

    python scripts/crop_demo_city.py tests/data/harbin.osm.pbf \
        src/jiaoxun/data/demo/harbin-centre.osm.pbf
"""

import sys
from pathlib import Path

import osmium

WEST, SOUTH, EAST, NORTH = 126.60, 45.715, 126.70, 45.775


def inside(lon: float, lat: float) -> bool:
    return WEST <= lon <= EAST and SOUTH <= lat <= NORTH


def longest_inside_run(refs: list[int], kept: set[int]) -> list[int]:
    best: list[int] = []
    run: list[int] = []
    for ref in [*refs, None]:
        if ref is not None and ref in kept:
            run.append(ref)
            continue
        if len(run) > len(best):
            best = run
        run = []
    return best


def main(source: Path, target: Path) -> None:
    kept: set[int] = set()
    for node in osmium.FileProcessor(str(source), osmium.osm.NODE):
        if inside(node.location.lon, node.location.lat):
            kept.add(node.id)
    target.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(target))
    try:
        for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
            if isinstance(obj, osmium.osm.Node) and obj.id in kept:
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                run = longest_inside_run([n.ref for n in obj.nodes], kept)
                if len(run) >= 2:
                    writer.add_way(obj.replace(nodes=run))
    finally:
        writer.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
