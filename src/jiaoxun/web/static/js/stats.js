// The commander's statistics page: a period (day … year, or from–to) of a scope (the city, a
// zone, a kiosk, a unit) against the same period last year and the one before, drawn from
// GET /api/analytics/summary and /heat; every table exported as CSV or XLSX, fetched with the
// token (never put in a URL) and saved from a Blob; a print style for the paper report.
// The choice of the toolbar is kept in the address (?period=month&date=…), so that a reload or
// a link shows the same report.

import { api, describe, login, session } from "./api.js";
import { $, $$, boot, el } from "./dom.js";
import { t } from "./i18n.js";
import { L, cityMap } from "./map.js";
import { renderReport } from "./report.js";

const PARAMS = ["period", "date", "start", "end", "scope", "align"];
const HEAT_COLOURS = ["#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];

const page = {
  city: null, // the map of the heat layer
  heat: null, // its layer of road pieces
  summary: null, // the summary drawn, redrawn on a language switch
  heatData: null,
  loads: 0, // the latest call wins
};
window.jx = page; // the tests read the state here

boot({ login, session, start });

async function start() {
  $("#report").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${session.user.username} (${session.user.role})`;
  const [city, units] = await Promise.all([api("GET", "/api/city/map"), api("GET", "/api/units")]);
  fillScopes(city, units);
  setUpToolbar();
  addExportButtons();
  page.city = cityMap($("#heat-map"), city, { patrol: false });
  page.heat = L.featureGroup().addTo(page.city.map);
  // the printed map is another size than the screen's: Leaflet measures it again
  const remeasure = () => page.city.map.invalidateSize({ pan: false });
  window.addEventListener("beforeprint", remeasure);
  window.addEventListener("afterprint", remeasure);
  window.matchMedia("print").addEventListener("change", remeasure);
  window.addEventListener("jx:language", () => {
    fillScopes(city, units);
    redraw();
  });
  await load(); // a refusal (an officer's 403) propagates: the page shows the log-in and why
}

// -- the toolbar -------------------------------------------------------------------------------

/** The city, its zones, kiosks (by id) and units (by call sign). */
function fillScopes(city, units) {
  const select = $("#toolbar [name=scope]");
  const value = select.value || new URLSearchParams(location.search).get("scope") || "city";
  const layer = (name) => city.layout.features.filter((f) => f.properties.layer === name).map((f) => f.properties);
  const option = (v, text) => el("option", { value: v }, text);
  select.replaceChildren(
    option("city", t("stats.scope.city")),
    el("optgroup", { label: t("stats.scope.zones") }, layer("zone").map((z) => option(`zone:${z.code}`, `${z.code} ${z.name ?? ""}`))),
    el("optgroup", { label: t("stats.scope.kiosks") }, layer("kiosk").map((k) => option(`kiosk:${k.id}`, k.name))),
    el("optgroup", { label: t("stats.scope.units") }, [...units].sort((a, b) => a.call_sign.localeCompare(b.call_sign)).map((u) => option(`unit:${u.call_sign}`, u.call_sign))),
  );
  select.value = value;
  if (!select.value) select.value = "city";
}

function setUpToolbar() {
  const form = $("#toolbar");
  const query = new URLSearchParams(location.search);
  form.elements.date.value = today();
  for (const name of PARAMS) if (query.get(name)) form.elements[name].value = query.get(name);
  showDates();
  form.elements.period.addEventListener("change", () => {
    showDates();
    load();
  });
  for (const name of ["date", "start", "end", "scope", "align"]) form.elements[name].addEventListener("change", () => load());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("#print").addEventListener("click", () => window.print());
}

/** One date for a day … year (the period that holds it), a range for a custom period. */
function showDates() {
  const form = $("#toolbar");
  const custom = form.elements.period.value === "custom";
  $(".one-date", form).hidden = custom;
  for (const label of $$(".range", form)) label.hidden = !custom;
  if (custom && !form.elements.start.value) {
    form.elements.end.value = form.elements.date.value;
    form.elements.start.value = shiftDays(form.elements.date.value, -6);
  }
}

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

function shiftDays(iso, days) {
  const day = new Date(`${iso}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** The query of the toolbar's choice, as every analytics route reads it. */
function query() {
  const form = $("#toolbar");
  const value = (name) => form.elements[name].value;
  const params = new URLSearchParams({ period: value("period") });
  if (value("period") === "custom") {
    params.set("start", value("start"));
    params.set("end", value("end"));
  } else params.set("date", value("date"));
  params.set("scope", value("scope"));
  params.set("align", value("align"));
  return params;
}

// -- loading and drawing ------------------------------------------------------------------------

/** Read the summary and the heat of the toolbar's choice, then draw them. */
async function load() {
  const call = ++page.loads;
  const params = query();
  history.replaceState(null, "", `?${params}`);
  document.body.dataset.loading = "1";
  let summary, heat;
  try {
    [summary, heat] = await Promise.all([api("GET", `/api/analytics/summary?${params}`), api("GET", `/api/analytics/heat?${params}`)]);
  } catch (error) {
    if (call !== page.loads) return;
    delete document.body.dataset.loading;
    if (error.status === 403 || error.status === 401) throw error;
    $("#problem").textContent = describe(error);
    document.body.dataset.stale = "1"; // the report below is of the choice before
    return;
  }
  if (call !== page.loads) return;
  $("#problem").textContent = "";
  delete document.body.dataset.stale;
  page.summary = summary;
  page.heatData = heat;
  redraw();
  delete document.body.dataset.loading;
  document.body.dataset.ready = "1";
  $("#report").dataset.loaded = String(call);
}

function redraw() {
  if (!page.summary) return;
  renderReport(page.summary);
  drawHeat(page.heatData);
}

// -- the heat map --------------------------------------------------------------------------------

/** The road pieces coloured and thickened by their share of the busiest piece's count. */
function drawHeat(heat) {
  page.heat.clearLayers();
  const max = Math.max(heat.max_count, 1);
  const colour = (n) => HEAT_COLOURS[Math.min(HEAT_COLOURS.length - 1, Math.floor((n / max) * HEAT_COLOURS.length))];
  const pieces = heat.features.filter((f) => f.properties.count > 0);
  L.geoJSON(
    { type: "FeatureCollection", features: pieces },
    {
      renderer: page.city.map.options.renderer,
      style: (f) => ({ color: colour(f.properties.count), weight: 3 + (5 * f.properties.count) / max, opacity: 0.9 }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.count} ${t("stats.incidents")}`, { sticky: true }),
    },
  ).addTo(page.heat);
  const legend = $("#heat-legend");
  legend.dataset.pieces = String(pieces.length);
  legend.dataset.max = String(heat.max_count);
  legend.replaceChildren(
    `${t("stats.heat.pieces")} ${pieces.length} · ${t("stats.heat.max")} ${heat.max_count} `,
    ...HEAT_COLOURS.map((c, i) => el("span", { class: `swatch s${i}`, title: `≥ ${Math.ceil((i * max) / HEAT_COLOURS.length)}` })),
  );
}

// -- exports -----------------------------------------------------------------------------------

/** A CSV and an XLSX button beside each table's heading. */
function addExportButtons() {
  for (const section of $$("section[data-table]")) {
    const table = section.dataset.table;
    const heading = $("h2", section);
    const head = el("div", { class: "section-head" });
    heading.replaceWith(head);
    const button = (ext) =>
      el("button", { type: "button", class: "export", dataset: { export: `${table}.${ext}` }, onclick: () => download(table, ext) }, ext.toUpperCase());
    head.append(heading, el("span", { class: "exports" }, button("csv"), button("xlsx")));
  }
}

/** Fetch a table's file with the token and save it under the server's name. */
async function download(table, ext) {
  const path = `/api/analytics/tables/${table}.${ext}?${query()}`;
  const reply = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!reply.ok) {
    $("#problem").textContent = `${reply.status}: ${(await reply.text()).slice(0, 200)}`;
    return;
  }
  $("#problem").textContent = "";
  const url = URL.createObjectURL(await reply.blob());
  const save = el("a", { href: url, download: fileName(reply.headers.get("Content-Disposition"), `${table}.${ext}`), hidden: true });
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The file name of a Content-Disposition: the UTF-8 one (filename*=) first. */
function fileName(disposition, fallback) {
  const header = disposition ?? "";
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (utf8) return decodeURIComponent(utf8[1]);
  return /filename="?([^";]+)"?/i.exec(header)?.[1] ?? fallback;
}
