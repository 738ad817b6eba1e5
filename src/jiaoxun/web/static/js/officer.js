// The officer's phone page: my current order with its route and status buttons, my zone's
// patrol points with check-in, quick forms (violation, assistance, stop-check), and the phone's
// own position sent OsmAnd-style when the officer allows it. A new order rings, vibrates and
// notifies once, under a banner with its acknowledge button. The accident flow and the
// violation form are officer-traffic.js and officer-violation.js.

import { api, describe, listen, login, session } from "./api.js";
import { armSound, askPermission, notify, ring, stopRinging, vibrate } from "./alarm.js";
import { $, $$, alertIn, boot, el, fill } from "./dom.js";
import { clock, lang, t } from "./i18n.js";
import { L, cityMap } from "./map.js";
import { setUpAccidents } from "./officer-traffic.js";
import { setUpViolations } from "./officer-violation.js";

const NEXT = { issued: "acknowledged", acknowledged: "en_route", en_route: "arrived", arrived: "done" };

const duty = { me: null, city: null, route: null, self: null, position: null, watch: null, kinds: null, alerts: [] };
window.jx = duty;

window.addEventListener("jx:language", () => {
  fillSelects();
  showProof();
  render();
});

setUpAlerts(); // the sound hint and the notification button show before the log-in too
boot({ login, session, start });

async function start() {
  $("#duty").hidden = false;
  $("#logout").hidden = false;
  const [city, kinds] = await Promise.all([api("GET", "/api/city/map"), api("GET", "/api/activities/kinds")]);
  duty.kinds = kinds;
  duty.city = cityMap($("#order-map"), city, { patrol: false });
  duty.route = L.layerGroup().addTo(duty.city.map);
  duty.self = L.circleMarker([0, 0], { radius: 8, weight: 3, color: "#ffffff", fillColor: "#1565c0", fillOpacity: 1 });
  for (const button of $$("[data-next]")) button.addEventListener("click", () => advance(button.dataset.next));
  $("#share").addEventListener("change", (event) => share(event.target.checked));
  setUpForms();
  duty.me = await api("GET", "/api/me"); // which unit's moves to follow
  setUpAccidents(duty); // each behind its button, its data read when first opened
  setUpViolations(duty, here);
  const onOpen = async () => {
    await reload(); // my unit and orders as they are now, on every (re)connect
    document.body.dataset.ready = "1";
  };
  listen(onEvent, { onOpen, movesOf: duty.me.unit?.id ?? null });
}

async function reload() {
  duty.me = await api("GET", "/api/me");
  await render();
}

function onEvent({ kind, action, data }) {
  const mine = duty.me?.unit?.id;
  if (mine == null) return;
  if (kind === "order" && data.unit_id === mine) reload();
  else if (kind === "unit" && action === "moved" && (data.unit_id ?? data.id) === mine) placeSelf(data.lon, data.lat);
  else if (kind === "unit" && data.id === mine && data.status) {
    duty.me.unit.status = data.status;
    renderStatus();
  } else if (kind === "check_in" && data.unit_id === mine) renderPoints();
}

async function render() {
  renderStatus();
  alertOrder();
  renderOrder();
  await renderPoints();
}

/** My unit on the map, where its last fix puts it. */
function placeSelf(lon, lat) {
  duty.self.setLatLng([lat, lon]);
  if (!duty.city.map.hasLayer(duty.self)) duty.self.addTo(duty.city.map);
}

function renderStatus() {
  const unit = duty.me.unit;
  if (unit?.lat != null) placeSelf(unit.lon, unit.lat);
  $("#unit").textContent = unit ? unit.call_sign : duty.me.username;
  $("#unit-status").textContent = unit ? t(`unit.${unit.status}`) : "";
}

// -- my order ------------------------------------------------------------------------------------

async function renderOrder() {
  const order = duty.me.orders[0];
  const box = $("#order");
  duty.route.clearLayers();
  for (const button of $$("[data-next]")) button.disabled = !order || NEXT[order.state] !== button.dataset.next;
  if (!order) {
    box.replaceChildren(el("p", { class: "hint" }, t("officer.noorder")));
    return;
  }
  const i = order.incident;
  fill(
    box,
    el("p", {}, el("b", {}, `P${i.priority} ${i.category_name}`), " ", el("span", { class: "state", id: "order-state", dataset: { state: order.state } }, t(`order.${order.state}`))),
    el("p", {}, place(i)),
    i.description && el("p", { class: "hint" }, i.description),
    el("p", { class: "hint" }, `${i.number} · ETA ${clock(order.eta_s)}`),
  );
  const target = L.marker([i.lat, i.lon], { icon: L.divIcon({ className: `jx-incident p${i.priority}`, html: "!", iconSize: [22, 22] }) });
  duty.route.addLayer(target);
  try {
    const route = await api("GET", `/api/incidents/${i.id}/route?unit_id=${duty.me.unit.id}`);
    const line = L.polyline(route.coordinates.map(([lon, lat]) => [lat, lon]), { renderer: duty.city.svg, color: "#6a1b9a", weight: 5, className: "jx-route" });
    duty.route.addLayer(line);
    duty.city.map.fitBounds(line.getBounds(), { padding: [20, 20] });
  } catch {
    duty.city.map.setView([i.lat, i.lon], 16);
  }
}

async function advance(state) {
  const order = duty.me.orders[0];
  const card = $("#order-card");
  try {
    await api("POST", `/api/orders/${order.id}/status`, { state });
    alertIn(card, "");
    await reload();
  } catch (error) {
    alertIn(card, describe(error));
  }
}

function place(incident) {
  return incident.address || `${incident.lon.toFixed(5)}, ${incident.lat.toFixed(5)}`;
}

// -- a new order: ring, vibrate, notify, the banner -----------------------------------------------

const ALERTED_KEPT = 50; // order ids this phone remembers having alerted its user for

function setUpAlerts() {
  const hint = $("#sound-hint");
  armSound((ready) => (hint.hidden = ready)); // browsers play sound only after a tap
  const ask = $("#ask-notify");
  const showPermission = () => {
    const permission = "Notification" in window ? Notification.permission : "unsupported";
    ask.hidden = permission !== "default";
    $("#notify-state").textContent = permission === "denied" ? t("alert.denied") : "";
  };
  ask.addEventListener("click", async () => {
    await askPermission();
    showPermission();
  });
  showPermission();
  $("#order-alert-ack").addEventListener("click", acknowledgeAlerted);
}

/** The ids of the orders this user was alerted for on this phone (a reload rings none again). */
function alerted() {
  const key = `jx.alerted.${session.user?.username}`;
  return { key, ids: new Set(JSON.parse(localStorage.getItem(key) || "[]")) };
}

/** The order waiting for my signature under a banner; the first time it is seen, the alarm. */
function alertOrder() {
  const order = duty.me.orders.find((o) => o.state === "issued");
  const banner = $("#order-alert");
  if (!order) {
    stopRinging();
    banner.hidden = true;
    return;
  }
  const i = order.incident;
  const what = `P${i.priority} ${i.category_name}`;
  $("#order-alert-what").textContent = what;
  $("#order-alert-where").textContent = place(i);
  $("#order-alert-number").textContent = `${i.number} · ${new Date(order.issued_at).toLocaleTimeString()}`;
  banner.dataset.order = order.id;
  banner.hidden = false;
  const { key, ids } = alerted();
  if (ids.has(order.id)) return;
  localStorage.setItem(key, JSON.stringify([...ids, order.id].slice(-ALERTED_KEPT)));
  const orderId = order.id;
  ring("order", { orderId }); // until acknowledged, a minute at most
  vibrate([500, 200, 500, 200, 1000], { orderId });
  notify(t("alert.order"), `${what} · ${place(i)}`, orderId, { orderId });
}

async function acknowledgeAlerted() {
  const banner = $("#order-alert");
  try {
    await api("POST", `/api/orders/${banner.dataset.order}/status`, { state: "acknowledged" });
    alertIn(banner, "");
    stopRinging();
    await reload();
  } catch (error) {
    alertIn(banner, describe(error));
  }
}

// -- patrol points -----------------------------------------------------------------------------------

async function renderPoints() {
  const unit = duty.me.unit;
  if (!unit) return;
  const points = duty.city.features.filter((f) => f.properties.layer === "patrol_point" && f.properties.zone === unit.zone);
  const report = await api("GET", "/api/patrol/report");
  const mine = report.units.find((u) => u.unit_id === unit.id);
  const visits = new Map((mine?.duty.points ?? []).map((p) => [p.point_id, p]));
  $("#points").replaceChildren(
    ...points.map((f) => {
      const p = f.properties;
      const v = visits.get(p.id);
      const status = v?.status ?? "pending";
      const unproved = v?.unproved ? ` · ${v.unproved} ${t("patrol.unproved")}` : "";
      return el(
        "li",
        { class: status, dataset: { point: p.id, status } },
        el(
          "span",
          {},
          p.name,
          el("br"),
          el("small", { class: "hint" }, el("span", { class: "status" }, t(`patrol.${status}`)), ` ${v?.visits ?? 0}/${v?.required ?? p.visits_per_shift} · ${p.radius_m} m${unproved}`),
        ),
        el("button", { type: "button", onclick: () => checkIn(p.id) }, t("patrol.checkin")),
      );
    }),
  );
}

/** A manual check-in; whether the unit's own track proves it is said at once. */
async function checkIn(pointId) {
  const where = here();
  const card = $("#points").closest(".card");
  const proof = $("#check-in-proof");
  try {
    const done = await api("POST", `/api/patrol/points/${pointId}/check-in`, { unit_id: duty.me.unit.id, ...where });
    alertIn(card, "");
    duty.proof = { pointId, proved: done.proved };
    showProof();
    await renderPoints();
  } catch (error) {
    duty.proof = null;
    proof.replaceChildren();
    alertIn(card, describe(error));
  }
}

function showProof() {
  const proof = $("#check-in-proof");
  if (!duty.proof) return proof.replaceChildren();
  const { pointId, proved } = duty.proof;
  const name = duty.city.features.find((f) => f.properties.layer === "patrol_point" && f.properties.id === pointId)?.properties.name ?? pointId;
  proof.className = `proof ${proved ? "proved" : "unproved"}`;
  proof.dataset.proved = String(proved);
  proof.textContent = `${name}: ${t(proved ? "patrol.proved" : "patrol.notproved")}`;
}

/** Where I am: the phone's own fix when shared, else my unit's last position. */
function here() {
  if (duty.position) return { lon: duty.position.lon, lat: duty.position.lat };
  return { lon: duty.me.unit.lon, lat: duty.me.unit.lat };
}

// -- the phone's position ------------------------------------------------------------------------------

async function share(on) {
  const label = $("#share-state");
  if (!on) {
    if (duty.watch != null) navigator.geolocation.clearWatch(duty.watch);
    duty.watch = null;
    label.textContent = "";
    return;
  }
  await api("POST", "/api/me/phone"); // the phone as a device of my unit; my login proves it
  duty.watch = navigator.geolocation.watchPosition(
    async (position) => {
      const c = position.coords;
      duty.position = { lon: c.longitude, lat: c.latitude };
      const body = { lon: c.longitude, lat: c.latitude, at: new Date(position.timestamp).toISOString(), accuracy_m: c.accuracy };
      if (c.speed != null) body.speed_kph = c.speed * 3.6;
      if (c.heading != null && !Number.isNaN(c.heading)) body.course_deg = c.heading;
      try {
        await api("POST", "/api/me/position", body);
        label.textContent = `${t("officer.share.on")} ${new Date().toLocaleTimeString()}`;
        label.dataset.sent = String(Number(label.dataset.sent || 0) + 1);
      } catch (error) {
        label.textContent = describe(error);
      }
    },
    () => {
      label.textContent = t("officer.share.denied");
      $("#share").checked = false;
    },
    { enableHighAccuracy: true, maximumAge: 5000 },
  );
}

// -- quick forms -------------------------------------------------------------------------------------

function setUpForms() {
  for (const button of $$(".formtabs button")) {
    button.addEventListener("click", () => {
      for (const b of $$(".formtabs button")) b.classList.toggle("active", b === button);
      for (const f of $$("#forms form")) f.hidden = f.dataset.kind !== button.dataset.form;
    });
  }
  fillSelects();
  for (const form of $$("#forms form")) form.addEventListener("submit", (event) => record(event, form));
}

function fillSelects() {
  if (!duty.kinds) return;
  for (const select of $$("select[data-options]")) {
    const value = select.value;
    select.replaceChildren(...duty.kinds[select.dataset.options].map((k) => el("option", { value: k.code }, lang() === "en" ? k.en : k.zh)));
    if (value) select.value = value;
  }
}

const NUMBERS = ["people_helped", "persons", "vehicles"];

async function record(event, form) {
  event.preventDefault();
  const body = { kind: form.dataset.kind, unit_id: duty.me.unit.id, ...here() };
  for (const [name, value] of new FormData(form)) {
    if (value === "" && name === "plate") continue;
    body[name] = NUMBERS.includes(name) ? Number(value) : value;
  }
  try {
    const saved = await api("POST", "/api/activities", body);
    alertIn(form, "");
    form.reset();
    $("#saved").textContent = `${t("officer.saved")} #${saved.id} ${new Date(saved.at).toLocaleTimeString()}`;
  } catch (error) {
    alertIn(form, describe(error));
  }
}
