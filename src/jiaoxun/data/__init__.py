"""Data shipped with jiaoxun: the demo city."""

from pathlib import Path

DEMO_PBF = Path(__file__).parent / "demo" / "harbin-centre.osm.pbf"
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
