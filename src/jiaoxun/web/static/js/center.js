// The command-center page: live map, 110 intake, recommendations and multi-point dispatch,
// incident queue and detail with 1-3-5 timers, units, patrol compliance and the event log; a
// red banner with an alarm for each order nobody signed for in time.

import { armSound, remember, ring, stopRinging } from "./alarm.js";
import { api, describe, listen, login, session } from "./api.js";
import { $, $$, alertIn, boot, debounce, el, since } from "./dom.js";
import { ago, clock, t } from "./i18n.js";
import { L, UnitLayer, cityMap } from "./map.js";
import { renderDetail } from "./detail.js";
import { watchKiosks } from "./kioskstatus.js";
import { watchAccidents } from "./accidents.js";

const OPEN_STATES = ["taking", "taken", "dispatched", "en_route", "on_scene", "reported", "handled"];
const LOG_LIMIT = 300;

const desk = {
  city: null,
  units: null,
  categories: [],
  incidents: new Map(), // open incidents by id
  incidentMarkers: new Map(),
  selected: null, // incident id shown in the detail panel
  pick: null, // intake location marker
  routes: null, // route polylines of the detail panel
  stale: new Set(), // incidents changed by events, reloaded together shortly after
  escalated: new Map(), // orders raised for want of a signature, by id, until signed or ended
  settled: new Set(), // orders seen signed or ended: never raised again (a late reply says so)
  alerts: [], // the alarms rung (alarm.js)
};
window.jx = desk; // tests and the browser benchmark read the live state here

// -- start ------------------------------------------------------------------------------------

window.addEventListener("jx:language", () => {
  renderEscalations();
  renderQueue();
  renderUnits();
  if (desk.selected) showIncident(desk.selected);
});
setInterval(tick, 1000);
armSound(); // the alarm can sound once the dispatcher has tapped the page (the log-in does)

boot({ login, session, start });

async function start() {
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${session.user.username} (${session.user.role})`;
  const [city, categories, tiers] = await Promise.all([api("GET", "/api/city/map"), api("GET", "/api/categories"), api("GET", "/api/tiers")]);
  desk.city = cityMap($("#map"), city);
  desk.units = new UnitLayer(desk.city.map);
  desk.categories = categories;
  desk.bounds = tiers.map((tier) => tier.bound_min * 60).sort((a, b) => a - b).join(",");
  L.control.layers(null, { ...desk.city.overlays, [t("layer.units")]: desk.units.group }, { collapsed: true }).addTo(desk.city.map);
  desk.routes = L.featureGroup().addTo(desk.city.map);
  setUpTabs();
  setUpIntake();
  setUpPatrol();
  watchKiosks(desk.city.overlays[t("layer.kiosks")]); // each kiosk's counter: staffed, queue
  desk.accidents = watchAccidents(desk.city.map); // among the incidents, and in their tab
  const onState = (up) => {
    const live = $("#live");
    live.className = `live ${up ? "on" : "off"}`;
    live.dataset.i18n = up ? "live.on" : "live.off";
    live.textContent = t(live.dataset.i18n);
  };
  desk.stopListening = listen(onEvent, { onOpen: loadLive, onState });
}

/** The fleet and the open incidents as they are now; on every (re)connect of the stream. */
async function loadLive() {
  const [units, open] = await Promise.all([api("GET", "/api/units"), api("GET", `/api/incidents?${OPEN_STATES.map((s) => `status=${s}`).join("&")}`)]);
  for (const unit of units) desk.units.set(unit);
  const stillOpen = new Set(open.map((incident) => incident.id));
  for (const id of desk.incidents.keys()) if (!stillOpen.has(id)) refreshIncident(id); // ended while the stream was down
  for (const incident of open) putIncident(incident);
  for (const incident of open) if (incident.state === "dispatched") refreshIncident(incident.id); // its orders: any raised?
  renderQueue();
  renderUnits();
  if (desk.selected) loadIncident(desk.selected);
  await desk.accidents.load();
  document.body.dataset.ready = "1";
}

function setUpTabs() {
  for (const button of $$(".tabs button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
}

function showTab(name) {
  for (const b of $$(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of $$(".tab")) s.classList.toggle("active", s.id === `tab-${name}`);
  if (name === "units") renderUnits();
  if (name === "patrol") loadPatrol();
}

// -- the event stream ---------------------------------------------------------------------------

const reloadStale = debounce(() => {
  const ids = [...desk.stale];
  desk.stale.clear();
  for (const id of ids) loadIncident(id);
}, 150);

/** Reload an incident an event touched; a burst of events (an order and its incident) is one load. */
function refreshIncident(id) {
  desk.stale.add(id);
  reloadStale();
}

function onEvent(event) {
  const { kind, action, data } = event;
  if (kind === "unit" && action === "moved") desk.units.moved(data);
  else if (kind === "unit" && action === "changed") {
    desk.units.status(data.id, data.status);
    renderUnits();
  }
  else if (kind === "incident") refreshIncident(data.id);
  else if (kind === "order") {
    refreshIncident(data.incident_id);
    if (action === "escalated") raise(data);
    else if (data.state !== "issued") settle(data.id);
  }
  else if (kind === "check_in" && patrolOpen()) reloadPatrol();
  else if (kind === "accident") desk.accidents.changed(data);
  if (!(kind === "unit" && action === "moved")) addLog(event);
}

function addLog(event) {
  const list = $("#log");
  list.prepend(el("li", {}, el("time", {}, new Date(event.at).toLocaleTimeString()), " ", el("b", {}, t(`event.${event.kind}`)), " ", logText(event)));
  while (list.children.length > LOG_LIMIT) list.lastChild.remove();
}

function logText({ kind, action, data }) {
  const unit = data.call_sign ?? desk.units.units.get(data.unit_id)?.call_sign ?? data.unit_id ?? "";
  if (kind === "incident") return `${data.number ?? data.id} ${action} → ${t(`incident.${data.state}`)}`;
  if (kind === "order" && action === "escalated") return `#${data.id} ${unit} ${data.number} ${t("escalation.title")} ${clock(data.waited_s)}`;
  if (kind === "order") return `#${data.id} ${unit} → ${t(`order.${data.state}`)}`;
  if (kind === "unit") return `${unit} → ${t(`unit.${data.status}`)}`;
  if (kind === "zone") return `${unit} ${action} ${data.zone}`;
  if (kind === "check_in") return `${unit} @ ${pointName(data.point_id)}`;
  return `${action} ${JSON.stringify(data)}`;
}

function pointName(id) {
  return desk.city.features.find((f) => f.properties.layer === "patrol_point" && f.properties.id === id)?.properties.name ?? id;
}

// -- incidents -------------------------------------------------------------------------------------

async function loadIncident(id) {
  const incident = await api("GET", `/api/incidents/${id}`);
  putIncident(incident);
  renderQueue();
  if (desk.selected === id) renderDetail(incident, detailHooks);
  for (const o of incident.orders) {
    if (o.state !== "issued") settle(o.id);
    else if (o.escalated_at) raise({ ...o, number: incident.number });
  }
}

// -- orders nobody signed for -------------------------------------------------------------------------

/** An order raised for want of a signature: on the banner, with the alarm when it is new. */
function raise(order) {
  if (desk.escalated.has(order.id) || desk.settled.has(order.id)) return;
  const { id, incident_id, number, call_sign, issued_at } = order;
  desk.escalated.set(id, { id, incident_id, number, call_sign, issued_at });
  renderEscalations();
  ring("escalation", { orderId: id });
  remember("escalation", id, { incident_id, call_sign });
}

/** An order signed for or ended: off the banner; the alarm stops with the last one. */
function settle(orderId) {
  desk.settled.add(orderId);
  if (!desk.escalated.delete(orderId)) return;
  renderEscalations();
  if (desk.escalated.size === 0) stopRinging();
}

function renderEscalations() {
  const banner = $("#escalations");
  const hidden = desk.escalated.size === 0;
  if (banner.hidden !== hidden) {
    banner.hidden = hidden;
    desk.city?.map.invalidateSize(); // the banner took or gave back the map's room
  }
  $("#escalated").replaceChildren(
    ...[...desk.escalated.values()].map((o) =>
      el(
        "li",
        { dataset: { order: o.id } },
        el("b", {}, o.call_sign),
        ` ${o.number} · ${t("escalation.waited")} `,
        el("span", { class: "waited", dataset: { since: o.issued_at } }, clock(since(o.issued_at))),
        el("button", { type: "button", onclick: () => showIncident(o.incident_id) }, t("escalation.open")),
      ),
    ),
  );
}

function putIncident(incident) {
  const open = OPEN_STATES.includes(incident.state);
  let marker = desk.incidentMarkers.get(incident.id);
  if (!open) {
    desk.incidents.delete(incident.id);
    marker?.remove();
    desk.incidentMarkers.delete(incident.id);
    return;
  }
  desk.incidents.set(incident.id, incident);
  if (!marker) {
    marker = L.marker([incident.lat, incident.lon], {
      icon: L.divIcon({ className: `jx-incident p${incident.priority}`, html: "!", iconSize: [22, 22] }),
      title: incident.number,
    }).on("click", () => showIncident(incident.id));
    marker.addTo(desk.city.map);
    desk.incidentMarkers.set(incident.id, marker);
  }
}

function renderQueue() {
  const list = $("#queue");
  const rows = [...desk.incidents.values()].sort((a, b) => a.priority - b.priority || Date.parse(a.call_at) - Date.parse(b.call_at));
  list.replaceChildren(
    ...(rows.length
      ? rows.map((i) =>
          el(
            "li",
            { class: `p${i.priority}${i.id === desk.selected ? " selected" : ""}`, dataset: { id: i.id }, onclick: () => showIncident(i.id) },
            el("b", {}, i.number),
            " ",
            el("span", { class: "state" }, t(`incident.${i.state}`)),
            el("br"),
            `${i.category_name} · ${i.address || i.zone || ""}`,
            " ",
            el("span", { class: "timer", dataset: { since: i.call_at, until: i.arrived_at ?? "", bounds: desk.bounds } }, ""),
          ),
        )
      : [el("li", { class: "hint" }, t("queue.empty"))]),
  );
  tick();
}

const detailHooks = {
  refresh: (id) => loadIncident(id),
  drawRoutes,
};

async function showIncident(id) {
  desk.selected = id;
  const incident = await api("GET", `/api/incidents/${id}`);
  putIncident(incident);
  renderQueue();
  renderDetail(incident, detailHooks);
  desk.city.map.panTo([incident.lat, incident.lon]);
}

/** Draw the road routes of some units to the selected incident (the latest call wins). */
async function drawRoutes(incidentId, unitIds) {
  const call = (desk.routeCall = (desk.routeCall ?? 0) + 1);
  const routes = await Promise.all(
    unitIds.map((id) => api("GET", `/api/incidents/${incidentId}/route?unit_id=${id}`).catch(() => null)),
  );
  if (call !== desk.routeCall) return;
  desk.routes.clearLayers();
  for (const route of routes.filter(Boolean)) {
    const line = L.polyline(route.coordinates.map(([lon, lat]) => [lat, lon]), { renderer: desk.city.svg, color: "#6a1b9a", weight: 5, opacity: 0.75, className: "jx-route" });
    line.bindTooltip(`${desk.units.units.get(route.unit_id)?.call_sign ?? route.unit_id} ${clock(route.eta_s)}`);
    desk.routes.addLayer(line);
  }
  if (routes.some(Boolean) && desk.framed !== incidentId) {
    desk.framed = incidentId; // the first time only: later redraws leave the view alone
    desk.city.map.fitBounds(desk.routes.getBounds(), { padding: [40, 40], maxZoom: 16 });
  }
}

// -- intake ----------------------------------------------------------------------------------------

function setUpIntake() {
  const form = $("#intake");
  const categorySearch = $("#category-search");
  categorySearch.addEventListener("input", () => {
    const q = categorySearch.value.trim().toLowerCase();
    const hits = q
      ? desk.categories.filter((c) => c.code.startsWith(q) || c.name_zh.includes(q) || c.name_en.toLowerCase().includes(q)).slice(0, 12)
      : [];
    $("#category-list").replaceChildren(
      ...hits.map((c) => el("li", { dataset: { code: c.code }, onclick: () => chooseCategory(c) }, `${c.code} ${c.name_zh} · ${c.name_en}`)),
    );
  });
  const placeSearch = $("#place-search");
  placeSearch.addEventListener(
    "input",
    debounce(async () => {
      const q = placeSearch.value.trim();
      const places = q ? await api("GET", `/api/places?q=${encodeURIComponent(q)}&limit=10`).catch(() => []) : [];
      $("#place-list").replaceChildren(
        ...places.map((p) => el("li", { onclick: () => choosePlace(p) }, `${p.name} `, el("small", {}, p.kind))),
      );
    }, 200),
  );
  desk.city.map.on("click", (event) => {
    if ($("#tab-intake").classList.contains("active")) setLocation(event.latlng.lng, event.latlng.lat);
  });
  form.addEventListener("submit", submitIntake);
}

function chooseCategory(category) {
  $("[name=category_code]").value = category.code;
  $("#category-chosen").textContent = `${category.code} ${category.name_zh} · ${category.name_en} (P${category.priority})`;
  $("#category-list").replaceChildren();
  $("#category-search").value = "";
}

function choosePlace(place) {
  setLocation(place.lon, place.lat);
  $("[name=address]").value = place.name;
  $("#place-list").replaceChildren();
  desk.city.map.setView([place.lat, place.lon], Math.max(desk.city.map.getZoom(), 16));
}

function setLocation(lon, lat) {
  desk.location = { lon, lat };
  if (!desk.pick) {
    desk.pick = L.marker([lat, lon], { draggable: true, icon: L.divIcon({ className: "jx-pick", html: "✚", iconSize: [24, 24] }) }).addTo(desk.city.map);
    desk.pick.on("dragend", () => setLocation(desk.pick.getLatLng().lng, desk.pick.getLatLng().lat));
  } else desk.pick.setLatLng([lat, lon]);
  const location = $("#location");
  location.dataset.lon = lon;
  location.dataset.lat = lat;
  location.textContent = `${lon.toFixed(5)}, ${lat.toFixed(5)}`;
}

async function submitIntake(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  if (!data.get("category_code") || !desk.location) return alertIn(form, t("intake.needs"));
  const body = {
    lon: desk.location.lon,
    lat: desk.location.lat,
    category_code: data.get("category_code"),
    address: data.get("address"),
    caller_name: data.get("caller_name"),
    caller_phone: data.get("caller_phone"),
    description: data.get("description"),
  };
  if (data.get("priority")) body.priority = Number(data.get("priority"));
  try {
    const incident = await api("POST", "/api/incidents", body);
    alertIn(form, "");
    form.reset();
    $("#category-chosen").textContent = "";
    desk.location = null;
    desk.pick?.remove();
    desk.pick = null;
    $("#location").textContent = t("intake.location.hint");
    putIncident(incident);
    renderQueue();
    desk.selected = incident.id;
    renderDetail(incident, detailHooks);
  } catch (error) {
    alertIn(form, describe(error));
  }
}

// -- units -------------------------------------------------------------------------------------------

function renderUnits() {
  if (!desk.units || !$("#tab-units").classList.contains("active")) return;
  const now = Date.now();
  const rows = [...desk.units.units.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign));
  $("#units").replaceChildren(
    ...rows.map((u) =>
      el(
        "tr",
        { dataset: { id: u.id }, onclick: () => u.lat != null && desk.city.map.panTo([u.lat, u.lon]) },
        el("td", {}, u.call_sign),
        el("td", {}, u.zone ?? ""),
        el("td", { class: `status ${u.status}` }, t(`unit.${u.status}`)),
        el("td", {}, ago(u.fix_at ? (now - Date.parse(u.fix_at)) / 1000 : null)),
      ),
    ),
  );
}

// -- patrol ------------------------------------------------------------------------------------------

const PATROL_EVERY_MS = 60_000;
// a point's status on the map: done green, pending white, overdue orange, late amber, missed red
const POINT_FILL = { done: "#2e7d32", pending: "#ffffff", overdue: "#ef6c00", late: "#ffb300", missed: "#c62828" };
const DRIVEN_COLOURS = ["#1565c0", "#00838f", "#6a1b9a", "#ad1457", "#4e342e", "#283593", "#00695c", "#5d4037"];

function setUpPatrol() {
  const select = $("#patrol-zone");
  const zones = desk.city.features.filter((f) => f.properties.layer === "zone").map((f) => f.properties);
  select.replaceChildren(...zones.map((z) => el("option", { value: z.code }, `${z.code} ${z.name ?? ""}`)));
  select.addEventListener("change", () => {
    $("#patrol-unit").value = "";
    drawPatrol();
  });
  $("#patrol-unit").addEventListener("change", drawPatrol);
  $("#patrol-csv").addEventListener("click", downloadCsv);
  desk.driven = L.featureGroup().addTo(desk.city.map);
  // the report is read when the tab opens, at check-ins, and once a minute while it is open
  setInterval(() => patrolOpen() && loadPatrol(), PATROL_EVERY_MS);
  window.addEventListener("jx:language", () => patrolOpen() && drawPatrol());
}

function patrolOpen() {
  return $("#tab-patrol").classList.contains("active");
}

const reloadPatrol = debounce(() => loadPatrol(), 300); // a burst of check-ins is one load

/** Read the shift's report and its map (the latest call wins), then draw them. */
async function loadPatrol() {
  const call = (desk.patrolCall = (desk.patrolCall ?? 0) + 1);
  const [report, map] = await Promise.all([api("GET", "/api/patrol/report"), api("GET", "/api/patrol/report/map")]);
  if (call !== desk.patrolCall) return;
  desk.patrol = { report, driven: map.features.filter((f) => f.properties.layer === "driven") };
  drawPatrol();
  $("#patrol").dataset.loaded = String(call);
}

/** The report of the chosen zone, or of one unit of it: map colours, figures, points, lines. */
function drawPatrol() {
  if (!desk.patrol) return;
  const { report } = desk.patrol;
  const code = $("#patrol-zone").value;
  const zone = report.zones.find((z) => z.zone === code);
  const units = report.units.filter((u) => u.zone === code).sort((a, b) => a.unit.localeCompare(b.unit));
  const chosen = fillUnitChoice(units);
  $("#patrol-shift").textContent = `${t("patrol.shift")} ${shiftTime(report.start)} – ${shiftTime(report.end)}`;
  styleDuty(report, chosen);
  drawDriven(chosen ? [chosen] : units);
  if (!zone) return $("#patrol").replaceChildren();
  const duty = chosen ? chosen.duty : zone.duty;
  $("#patrol").replaceChildren(
    unitFigures(chosen ? [chosen] : units),
    el("h3", {}, `${t("patrol.points")} ${duty.visits_done}/${duty.visits_required}`),
    el("table", { class: "grid" }, el("tbody", {}, ...duty.points.map(pointRow))),
    el("h3", {}, `${t("patrol.lines")} ${Math.round(duty.line_coverage * 100)}%`),
    el("table", { class: "grid" }, el("tbody", {}, ...duty.lines.map(lineRow))),
  );
}

/** The unit choice of the zone ("all units of the zone" first); returns the unit chosen. */
function fillUnitChoice(units) {
  const select = $("#patrol-unit");
  const value = select.value;
  select.replaceChildren(el("option", { value: "" }, t("patrol.allunits")), ...units.map((u) => el("option", { value: u.unit_id }, u.unit)));
  const chosen = units.find((u) => String(u.unit_id) === value) ?? null;
  select.value = chosen ? value : "";
  return chosen;
}

function shiftTime(iso) {
  return new Date(iso).toLocaleString([], { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

/** Lines from red (not driven) to green by the share driven, points by status; the chosen
 * unit's own duty in its zone, every other zone's as the zone did it. */
function styleDuty(report, chosen) {
  for (const zone of report.zones) {
    const duty = chosen && chosen.zone === zone.zone ? chosen.duty : zone.duty;
    for (const p of duty.points) {
      desk.city.pointLayers.get(p.point_id)?.setStyle({ fillColor: POINT_FILL[p.status] ?? "#ffffff", color: p.status === "pending" ? "#78909c" : "#37474f" });
    }
    for (const l of duty.lines) {
      desk.city.lineLayers.get(l.line_id)?.setStyle({ color: `hsl(${Math.round(120 * l.covered)}, 70%, 38%)`, dashArray: l.covered > 0 ? null : "6 4", weight: l.status === "done" ? 5 : 4 });
    }
  }
}

/** Each unit's map-matched roads of the shift, in a colour of its own. */
function drawDriven(units) {
  desk.driven.clearLayers();
  const shown = new Set(units.map((u) => u.unit_id));
  const all = desk.patrol.driven;
  all.forEach((f, i) => {
    const p = f.properties;
    const paths = f.geometry.coordinates.filter((path) => path.length >= 2);
    if (!shown.has(p.unit_id) || !paths.length) return;
    const line = L.polyline(
      paths.map((path) => path.map(([lon, lat]) => [lat, lon])),
      { renderer: desk.city.svg, color: DRIVEN_COLOURS[i % DRIVEN_COLOURS.length], weight: 4, opacity: 0.8, className: `jx-driven unit-${p.unit_id}`, interactive: true },
    );
    line.bindTooltip(`${p.unit} ${p.patrol_km.toFixed(1)} km`, { sticky: true });
    desk.driven.addLayer(line);
  });
}

function unitFigures(units) {
  const minutes = (m) => Math.round(m);
  return el(
    "table",
    { class: "grid figures" },
    el(
      "thead",
      {},
      el("tr", {}, ...["patrol.unit", "patrol.km", "patrol.min", "patrol.ordermin", "patrol.outsidemin", "patrol.checkins"].map((k) => el("th", { dataset: { i18n: k } }, t(k)))),
    ),
    el(
      "tbody",
      {},
      ...units.map((u) =>
        el(
          "tr",
          { dataset: { unit: u.unit_id } },
          el("td", {}, u.unit, el("br"), el("small", { class: "hint roads" }, u.roads_as_of ? `${t("patrol.roads")} ${new Date(u.roads_as_of).toLocaleTimeString([], { hour12: false })}` : t("patrol.noroads"))),
          el("td", { class: "km" }, u.times.patrol_km.toFixed(1)),
          el("td", {}, minutes(u.times.patrol_min)),
          el("td", {}, minutes(u.times.order_min)),
          el("td", {}, minutes(u.times.outside_zone_min)),
          el("td", { class: "check-ins" }, u.check_ins, u.unproved_check_ins ? el("small", { class: "unproved" }, ` (+${u.unproved_check_ins} ${t("patrol.unproved")})`) : null),
        ),
      ),
    ),
  );
}

function pointRow(p) {
  const name = desk.city.features.find((f) => f.properties.layer === "patrol_point" && f.properties.id === p.point_id)?.properties.name ?? p.point_id;
  const windows = p.windows.map((w) =>
    el("li", { class: w.status }, `${hhmm(w.start)}–${hhmm(w.end)} ${t(`patrol.${w.status}`)}${w.visited_at ? ` ${hhmm(w.visited_at)}` : ""}`),
  );
  return el(
    "tr",
    { class: p.status, dataset: { point: p.point_id, status: p.status } },
    el("td", {}, name, windows.length ? el("ul", { class: "windows" }, ...windows) : null),
    el("td", {}, `${p.visits}/${p.required}`, p.unproved ? el("small", { class: "unproved" }, ` (+${p.unproved} ${t("patrol.unproved")})`) : null),
    el("td", {}, t(`patrol.${p.status}`)),
  );
}

function lineRow(l) {
  const name = desk.city.features.find((f) => f.properties.layer === "patrol_line" && f.properties.id === l.line_id)?.properties.name ?? l.line_id;
  return el(
    "tr",
    { class: l.status, dataset: { line: l.line_id, status: l.status } },
    el("td", {}, name),
    el("td", {}, `${Math.round(l.length_m)} m`),
    el("td", {}, `${Math.round(l.covered * 100)}%`),
    el("td", {}, `${l.passes}/${l.required_passes}`),
    el("td", {}, t(`patrol.line.${l.status}`)),
  );
}

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

/** The report as a CSV file: fetched with the token (never put in a URL), saved from a Blob. */
async function downloadCsv(event) {
  event.preventDefault();
  const rows = $("#patrol-csv-rows").value;
  const reply = await fetch(`/api/patrol/report.csv?rows=${rows}`, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!reply.ok) return alertIn($("#tab-patrol"), `${reply.status}: ${(await reply.text()).slice(0, 200)}`);
  alertIn($("#tab-patrol"), "");
  const name = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition") ?? "")?.[1] ?? `patrol-${rows}.csv`;
  const url = URL.createObjectURL(await reply.blob());
  const save = el("a", { href: url, download: name, hidden: true });
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// -- clocks --------------------------------------------------------------------------------------------

function tick() {
  const now = Date.now();
  $("#clock").textContent = new Date(now).toLocaleTimeString();
  for (const timer of $$(".timer[data-since]")) {
    const end = timer.dataset.until ? Date.parse(timer.dataset.until) : now;
    const elapsed = (end - Date.parse(timer.dataset.since)) / 1000;
    timer.textContent = clock(elapsed);
    const bounds = (timer.dataset.bounds || desk.bounds || "60,180,300").split(",").map(Number);
    timer.className = `timer ${elapsed <= bounds[0] ? "ok" : elapsed <= bounds[bounds.length - 1] ? "warn" : "late"}`;
  }
  for (const waited of $$(".waited[data-since]")) waited.textContent = clock(since(waited.dataset.since, now));
  if (now % 5000 < 1000) renderUnits();
}

