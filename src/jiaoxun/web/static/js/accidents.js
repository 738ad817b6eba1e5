// The command page's accidents: the last day's accidents as markers among the incidents (their
// procedure and state in the popup), a small list in their tab, and, once the tab is opened,
// the road stretches with the most accidents drawn as thick lines under them. Kept live by the
// `accident` events.

import { api } from "./api.js";
import { $, el, fill } from "./dom.js";
import { L } from "./map.js";
import { timeOf, translateTraffic, tw } from "./traffic-words.js";

const BASE = "/api/traffic";
const DAY_MS = 24 * 3600 * 1000;
const STRETCHES = 10;

/** The accidents' layer of the command page's map, which the page loads on each connect of its
 * stream and keeps live from the events. */
export function watchAccidents(map) {
  const layer = new AccidentLayer(map);
  translateTraffic();
  window.addEventListener("jx:language", () => layer.render());
  $(".tabs [data-tab=accidents]")?.addEventListener("click", () => layer.loadStretches(), { once: true });
  return layer;
}

class AccidentLayer {
  constructor(map) {
    this.map = map;
    map.createPane("stretches").style.zIndex = 390; // above the roads, below markers and units
    this.stretchLayer = L.layerGroup().addTo(map);
    this.markerLayer = L.layerGroup().addTo(map);
    this.accidents = new Map(); // id: AccidentOut
    this.markers = new Map();
    this.stretches = [];
    this.loads = 0;
  }

  /** The last day's accidents and the worst stretches, as they are now (each stream connect). */
  async load() {
    const since = new Date(Date.now() - DAY_MS).toISOString();
    const query = new URLSearchParams({ since, limit: "200" });
    try {
      const accidents = await api("GET", `${BASE}/accidents?${query}`);
      this.accidents = new Map(accidents.map((a) => [a.id, a]));
    } catch (error) {
      this.error = String(error.message || error);
    }
    if (this.withStretches) await this.loadStretches();
    this.loads += 1;
    this.render();
  }

  /** The stretches with the most accidents of the last 30 days, drawn from when the accidents'
   * tab is first opened on. */
  async loadStretches() {
    this.withStretches = true;
    const query = new URLSearchParams({ since: new Date(Date.now() - 30 * DAY_MS).toISOString(), limit: String(STRETCHES) });
    try {
      this.stretches = await api("GET", `${BASE}/accidents/stretches?${query}`);
    } catch {
      this.stretches = [];
    }
    this.render();
  }

  /** An `accident` event: the accident read again. */
  async changed(data) {
    try {
      const accident = await api("GET", `${BASE}/accidents/${data.id}`);
      this.accidents.set(accident.id, accident);
    } catch {
      return;
    }
    this.render();
  }

  render() {
    for (const [id, marker] of this.markers) {
      if (!this.accidents.has(id)) {
        marker.remove();
        this.markers.delete(id);
      }
    }
    for (const a of this.accidents.values()) this.place(a);
    this.drawStretches();
    this.renderList();
  }

  place(a) {
    const icon = L.divIcon({ className: `jx-accident ${a.procedure} ${a.state}`, html: "撞", iconSize: [22, 22] });
    let marker = this.markers.get(a.id);
    if (!marker) {
      marker = L.marker([a.lat, a.lon], { icon, title: a.number, zIndexOffset: -100 });
      marker.bindPopup(() => popup(this.accidents.get(a.id)));
      marker.addTo(this.markerLayer);
      this.markers.set(a.id, marker);
    } else {
      marker.setIcon(icon);
      marker.setLatLng([a.lat, a.lon]);
    }
    marker.getElement?.()?.setAttribute("data-accident", String(a.id));
  }

  drawStretches() {
    this.stretchLayer.clearLayers();
    const most = Math.max(1, ...this.stretches.map((s) => s.accidents));
    for (const s of this.stretches) {
      if (!s.line || s.line.length < 2) continue;
      const line = L.polyline(
        s.line.map(([lon, lat]) => [lat, lon]),
        { pane: "stretches", color: "#6a1b9a", weight: 6 + (8 * s.accidents) / most, opacity: 0.45, className: "jx-stretch", lineCap: "round" },
      );
      line.bindTooltip(`${s.road || "–"}: ${s.accidents} ${tw("acc.list")}`, { sticky: true });
      this.stretchLayer.addLayer(line);
    }
  }

  renderList() {
    const list = $("#accidents");
    if (!list) return;
    const rows = [...this.accidents.values()].sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
    list.dataset.loads = String(this.loads);
    fill(
      list,
      rows.length === 0 && el("li", { class: "hint" }, tw("acc.none")),
      rows.map((a) =>
        el(
          "li",
          { class: `${a.procedure} ${a.state}`, dataset: { id: a.id, state: a.state, procedure: a.procedure }, onclick: () => this.show(a.id) },
          el("b", {}, a.number),
          " ",
          el("span", { class: "state" }, tw(`acc.state.${a.state}`)),
          el("br"),
          `${tw(`acc.procedure.${a.procedure}`)} · ${timeOf(a.occurred_at)} · ${a.place || a.road || a.zone || ""}`,
        ),
      ),
    );
    const stretches = $("#accident-stretches");
    if (stretches) {
      fill(
        stretches,
        this.stretches.map((s) => el("li", { dataset: { edge: s.edge } }, `${s.road || "–"} · ${s.accidents}`)),
      );
    }
  }

  show(id) {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.map.panTo(marker.getLatLng());
    marker.openPopup();
  }
}

function popup(a) {
  const number = a.agreement_number ? `${tw("acc.agreement")} ${a.agreement_number}` : a.ruling_number ? `${tw("acc.ruling")} ${a.ruling_number}` : "";
  return el(
    "div",
    { class: "accident-popup", dataset: { id: a.id } },
    el("b", {}, a.number),
    el("br"),
    el("span", { class: "procedure" }, tw(`acc.procedure.${a.procedure}`)),
    " · ",
    el("span", { class: "state" }, tw(`acc.state.${a.state}`)),
    el("br"),
    `${timeOf(a.occurred_at)} ${a.call_sign ?? ""} ${a.place || a.road || ""}`,
    a.injured > 0 && el("div", {}, `${tw("acc.injured")} ${a.injured}`),
    number && el("div", {}, number),
    a.handed_over_to && el("div", {}, `${tw("acc.handed")}: ${a.handed_over_to}`),
  );
}
