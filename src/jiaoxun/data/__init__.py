"""Data shipped with jiaoxun: the demo city, the CAD import mappings."""

from pathlib import Path

PACKAGE_DATA = Path(__file__).parent
DEMO_PBF = PACKAGE_DATA / "demo" / "harbin-centre.osm.pbf"
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
#: column mappings of other centers' CAD exports (``jiaoxun history import --mapping NAME``)
MAPPINGS = PACKAGE_DATA / "mappings"
