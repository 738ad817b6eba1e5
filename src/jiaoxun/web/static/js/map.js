// The city map drawn from the project's own data (GET /api/city/map): roads, zones, kiosks,
// mandatory patrol lines and points as vector layers, and live unit markers. No tile server.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { t } from "./i18n.js";

export { L };

const STATUS_COLOURS = {
  available: "#2e7d32",
  at_kiosk: "#1565c0",
  dispatched: "#f9a825",
  en_route: "#ef6c00",
  on_scene: "#c62828",
  off_duty: "#9e9e9e",
};
const ZONE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const ROAD_WEIGHTS = [4, 3.2, 2.6, 2, 1.5, 1.1, 0.8, 0.6];

/** Draw the city into `element`; returns the map, its named overlays and the layout features. */
export function cityMap(element, city, { patrol = true } = {}) {
  const renderer = L.canvas({ padding: 0.3 });
  const svg = L.svg({ padding: 0.3 }); // routes: few paths, each a DOM element with its class
  const map = L.map(element, { renderer, preferCanvas: true, zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(city.attribution);
  const [west, south, east, north] = city.bounds;
  map.fitBounds([[south, west], [north, east]]);

  const roads = L.geoJSON(city.roads, {
    renderer,
    interactive: false,
    style: (f) => ({ color: f.properties.rank <= 2 ? "#9aa4b1" : "#c3c9d1", weight: ROAD_WEIGHTS[Math.min(f.properties.rank, 7)], opacity: 1 }),
  });
  const byLayer = (name) => ({ type: "FeatureCollection", features: city.layout.features.filter((f) => f.properties.layer === name) });
  const zoneIndex = new Map(byLayer("zone").features.map((f, i) => [f.properties.code, i]));
  const zoneColour = (code) => ZONE_COLOURS[(zoneIndex.get(code) ?? 0) % ZONE_COLOURS.length];
  const zones = L.geoJSON(byLayer("zone"), {
    renderer,
    style: (f) => ({ color: zoneColour(f.properties.code), weight: 1.5, fillOpacity: 0.07, opacity: 0.7 }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.code} ${f.properties.name ?? ""}`, { sticky: true }),
  });
  const kiosks = L.geoJSON(byLayer("kiosk"), {
    pointToLayer: (f, latlng) => L.marker(latlng, { icon: L.divIcon({ className: "jx-kiosk", html: "亭", iconSize: [18, 18] }), title: f.properties.name }),
  });
  const lineLayers = new Map();
  const lines = L.geoJSON(byLayer("patrol_line"), {
    renderer,
    style: (f) => ({ color: zoneColour(f.properties.zone), weight: 3, dashArray: "6 4", opacity: 0.8 }),
    onEachFeature: (f, layer) => {
      lineLayers.set(f.properties.id, layer);
      layer.bindTooltip(f.properties.name, { sticky: true });
    },
  });
  const pointLayers = new Map();
  const points = L.geoJSON(byLayer("patrol_point"), {
    pointToLayer: (f, latlng) => {
      const marker = L.circleMarker(latlng, { renderer, radius: 5, color: "#37474f", weight: 1.5, fillColor: "#ffffff", fillOpacity: 1 });
      pointLayers.set(f.properties.id, marker);
      return marker.bindTooltip(f.properties.name);
    },
  });
  const overlays = {
    [t("layer.roads")]: roads.addTo(map),
    [t("layer.zones")]: zones.addTo(map),
    [t("layer.kiosks")]: kiosks.addTo(map),
  };
  if (patrol) {
    overlays[t("layer.lines")] = lines.addTo(map);
    overlays[t("layer.points")] = points.addTo(map);
  }
  return { map, svg, overlays, pointLayers, lineLayers, features: city.layout.features };
}

/** Live unit markers on a canvas of their own, moved in batches.
 *
 * Fixes arrive as events (hundreds a second with a large fleet); each only records the newest
 * position of its unit, and the positions are applied together at most every `everyMs`, in an
 * animation frame: the canvas repaints a few times a second whatever the rate, a fix shows at
 * most `everyMs` late. `stats` holds what the batches cost, for the benchmark. */
export class UnitLayer {
  constructor(map, { everyMs = 250 } = {}) {
    this.map = map;
    this.everyMs = everyMs;
    // a canvas of their own, in a pane above the city: a moving unit repaints only the units,
    // not the road network under them
    map.createPane("units").style.zIndex = 620; // above the kiosks they stand at, below tooltips
    this.renderer = L.canvas({ pane: "units", padding: 0.3 });
    this.group = L.layerGroup().addTo(map);
    this.markers = new Map();
    this.units = new Map();
    this.pending = new Map();
    this.scheduled = false;
    this.stats = { fixes: 0, applyMs: [] };
  }

  /** Put or refresh a unit from a UnitOut row. */
  set(unit) {
    this.units.set(unit.id, { ...this.units.get(unit.id), ...unit });
    const marker = this.markers.get(unit.id);
    if (unit.lat == null || unit.lon == null) return;
    if (!marker) {
      const m = L.circleMarker([unit.lat, unit.lon], { renderer: this.renderer, radius: 7, weight: 2, color: "#ffffff", fillOpacity: 1, fillColor: STATUS_COLOURS[unit.status] });
      m.bindTooltip(unit.call_sign, { direction: "top", offset: [0, -6] });
      m.addTo(this.group);
      this.markers.set(unit.id, m);
    } else {
      marker.setLatLng([unit.lat, unit.lon]);
      marker.setStyle({ fillColor: STATUS_COLOURS[unit.status] });
    }
  }

  status(unitId, status) {
    const unit = this.units.get(unitId);
    if (!unit) return;
    unit.status = status;
    this.markers.get(unitId)?.setStyle({ fillColor: STATUS_COLOURS[status] });
  }

  /** Queue a position from a `unit moved` event. */
  moved(data) {
    this.pending.set(data.unit_id ?? data.id, data);
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => requestAnimationFrame(() => this.flush()), this.everyMs);
    }
  }

  flush() {
    const started = performance.now();
    for (const [id, fix] of this.pending) {
      const unit = this.units.get(id);
      // a fix older than the one the unit holds came before the snapshot that set it
      if (!unit || (unit.fix_at && Date.parse(fix.at) < Date.parse(unit.fix_at))) continue;
      unit.lon = fix.lon;
      unit.lat = fix.lat;
      unit.fix_at = fix.at;
      const marker = this.markers.get(id);
      if (marker) marker.setLatLng([fix.lat, fix.lon]);
      else this.set(unit);
    }
    this.stats.fixes += this.pending.size;
    this.stats.applyMs.push(performance.now() - started);
    if (this.stats.applyMs.length > 1000) this.stats.applyMs.shift();
    this.pending.clear();
    this.scheduled = false;
    this.onFlush?.();
  }
}
