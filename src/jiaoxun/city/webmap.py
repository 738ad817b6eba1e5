"""The city as the browser's map draws it: roads by class, and the layout with database ids.

No tile server: the command center's page draws the city's own vectors. A road network of ten
thousand stretches goes out as one MultiLineString per road class, so the page styles a handful
of features instead of thousands; coordinates are WGS-84 rounded to 6 decimals (about 0.1 m).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from jiaoxun.city.service import current_city, export_layout
from jiaoxun.data import OSM_ATTRIBUTION
from jiaoxun.geo.network import ROAD_CLASSES, RoadNetwork

DECIMALS = 6


def rounded(value: Any) -> Any:
    """GeoJSON coordinates (nested lists of numbers) rounded to `DECIMALS`."""
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return round(float(value), DECIMALS)


def road_layers(network: RoadNetwork) -> dict[str, Any]:
    """Every road stretch once (a two-way road's twins share one line), one MultiLineString
    feature per road class, most important class first (`rank` 0)."""
    stretches = np.flatnonzero(network.stretch_mask)
    classes = network.edge_road_class[stretches]
    features = []
    for rank, code in enumerate(np.unique(classes)):
        lines = [
            np.round(network.edge_coords(int(e)), DECIMALS).tolist()
            for e in stretches[classes == code]
        ]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": lines},
                "properties": {"road_class": ROAD_CLASSES[int(code)], "rank": rank},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def city_map(session: Session, network: RoadNetwork) -> dict[str, Any]:
    """Everything the map draws: name, bounds (west, south, east, north), attribution, roads
    and the layout (zones, kiosks, patrol lines and points, each with its `id`)."""
    city = current_city(session)
    layout = export_layout(session, for_map=True)
    for feature in layout["features"]:
        geometry = feature["geometry"]
        geometry["coordinates"] = rounded(geometry["coordinates"])
    return {
        "name": city.name if city else "",
        "bounds": [round(b, DECIMALS) for b in network.bounds()],
        "attribution": OSM_ATTRIBUTION,
        "roads": road_layers(network),
        "layout": layout,
    }
