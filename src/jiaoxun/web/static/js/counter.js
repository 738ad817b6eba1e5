// The kiosk clerk's counter: open and close the counter, check in booked citizens by code (a
// barcode or QR scanner types into the field and ends with Enter), walk-in tickets, call next,
// recall, no-show, serve, transfer, done with the services performed; today's queue, bookings
// and the kiosk's figures, read again every 5 s. Commanders and admins choose the kiosk.
// Violations are looked up by plate, decided and paid here too (counter-violations.js).
// A banner says who is on hand (clerks, officers the roster puts at the counter, cars standing
// by or out); with no one, it turns red (无人值守): walk-in tickets stop, as the server refuses
// them, and the bookings due within two hours are marked to be rebooked (需改约).

import { api, describe, login, session } from "./api.js";
import { $, $$, alertIn, boot, el, fill, since } from "./dom.js";
import { clock, lang, t } from "./i18n.js";
import { setUpCounterViolations } from "./counter-violations.js";

const TZ = "Asia/Shanghai"; // the kiosks' time zone (the settings' default)
const REFRESH_MS = 5000;
const OPEN_TICKETS = ["called", "serving"];

const counter = {
  kioskId: null, // the kiosk a commander or admin works on (a clerk has his own)
  kiosks: [],
  services: [],
  today: null, // GET /api/counter/today
  current: null, // the id of the ticket at this counter (called or serving)
  loads: 0,
};
window.jx = counter; // tests read the page's state here

window.addEventListener("jx:language", () => {
  fillServices();
  render();
});

boot({ login, session, start });

async function start() {
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${session.user.username} (${t(`role.${session.user.role}`)})`;
  const clerk = session.user.role === "kiosk_clerk";
  const [services, kiosks] = await Promise.all([api("GET", "/api/public/services"), clerk ? [] : api("GET", "/api/public/kiosks")]);
  counter.services = services;
  counter.kiosks = kiosks;
  if (!clerk) setUpKioskPick();
  fillServices();
  setUpActions();
  setUpCounterViolations(counter);
  await reload();
  setInterval(() => reload().catch(() => {}), REFRESH_MS);
  $("#check-in").elements.code.focus();
  document.body.dataset.ready = "1";
}

function setUpKioskPick() {
  const pick = $("#kiosk-pick");
  const asked = Number(new URLSearchParams(location.search).get("kiosk_id"));
  counter.kioskId = counter.kiosks.some((k) => k.id === asked) ? asked : counter.kiosks[0]?.id ?? null;
  fill(
    pick,
    counter.kiosks.map((k) => el("option", { value: k.id, selected: k.id === counter.kioskId }, k.name)),
  );
  pick.hidden = false;
  pick.addEventListener("change", () => {
    counter.kioskId = Number(pick.value);
    counter.current = null;
    history.replaceState(null, "", `?kiosk_id=${counter.kioskId}`);
    reload();
  });
}

/** A counter route, for another kiosk than the user's own when a commander or admin chose one. */
function path(route) {
  return counter.kioskId == null ? route : `${route}?kiosk_id=${counter.kioskId}`;
}

function serviceName(code) {
  const service = counter.services.find((s) => s.code === code);
  return service ? (lang() === "en" ? service.name_en : service.name_zh) : code;
}

function fillServices() {
  for (const select of $$("select[data-services]")) {
    const chosen = new Set([...select.selectedOptions].map((o) => o.value));
    fill(
      select,
      counter.services.map((s) => el("option", { value: s.code, selected: chosen.has(s.code) }, `${serviceName(s.code)} (${s.code})`)),
    );
  }
}

// -- actions --------------------------------------------------------------------------------------

/** Run a counter action from `card`: its error shown there, the day read again after. */
async function act(card, call) {
  alertIn(card, "");
  let reply;
  try {
    reply = await call();
  } catch (error) {
    alertIn(card, describe(error));
    await reload().catch(() => {});
    return null;
  }
  await reload();
  return reply ?? true;
}

function setUpActions() {
  const sessionCard = $("#session");
  $("#open").addEventListener("click", () => act(sessionCard, () => api("POST", path("/api/counter/open"))));
  $("#close").addEventListener("click", () => act(sessionCard, () => api("POST", path("/api/counter/close"))));

  const checkIn = $("#check-in");
  checkIn.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = checkIn.elements.code;
    const code = input.value.trim();
    $("#checked-in").textContent = "";
    if (!code) return;
    const ticket = await act(checkIn.closest(".card"), () => api("POST", path("/api/counter/check-in"), { code }));
    input.value = "";
    input.focus(); // ready for the next scan
    if (ticket) $("#checked-in").textContent = `${t("counter.ticket")} ${ticket.number} · ${serviceName(ticket.service)}`;
  });

  const walkIn = $("#walk-in");
  walkIn.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(walkIn);
    $("#issued").textContent = "";
    const body = { service: data.get("service"), priority: data.get("priority") === "on" };
    const ticket = await act(walkIn.closest(".card"), () => api("POST", path("/api/counter/tickets"), body));
    if (ticket) {
      $("#issued").textContent = `${t("counter.ticket")} ${ticket.number} · ${serviceName(ticket.service)}`;
      walkIn.elements.priority.checked = false;
    }
  });

  const current = $("#current");
  $("#call-next").addEventListener("click", async () => {
    const ticket = await act(current, () => api("POST", path("/api/counter/call-next"), {}));
    if (ticket) {
      counter.current = ticket.id;
      render();
    }
  });
  for (const button of $$("[data-act]", current)) {
    button.addEventListener("click", () => act(current, () => api("POST", path(`/api/counter/tickets/${counter.current}/${button.dataset.act}`))));
  }
  $("#transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const service = new FormData(event.target).get("service");
    const ticket = await act(current, () => api("POST", path(`/api/counter/tickets/${counter.current}/transfer`), { service }));
    if (ticket?.id) counter.current = null; // the new ticket waits in the queue of its service
    render();
  });
  $("#done").addEventListener("submit", async (event) => {
    event.preventDefault();
    const services = [...event.target.elements.services.selectedOptions].map((o) => o.value);
    const done = await act(current, () => api("POST", path(`/api/counter/tickets/${counter.current}/done`), { services }));
    if (done) {
      counter.current = null;
      render();
    }
  });
}

// -- the day ---------------------------------------------------------------------------------------

async function reload() {
  counter.today = await api("GET", path("/api/counter/today"));
  const tickets = counter.today.tickets;
  const mine = tickets.find((ticket) => ticket.id === counter.current);
  if (!mine || !OPEN_TICKETS.includes(mine.state)) {
    counter.current = tickets.find((ticket) => OPEN_TICKETS.includes(ticket.state))?.id ?? null;
  }
  render();
  counter.loads += 1;
  document.body.dataset.loads = String(counter.loads);
}

function render() {
  const day = counter.today;
  if (!day) return;
  $("#kiosk-name").textContent = day.kiosk.name;
  const staffed = $("#staffed");
  staffed.textContent = t(day.staffed ? "counter.staffed" : "counter.unstaffed");
  staffed.className = `state ${day.staffed ? "staffed" : "unstaffed"}`;
  // the clerk's own counter: a car standing by staffs the kiosk but opens no counter
  $("#open").disabled = day.on_hand.clerks > 0;
  $("#close").disabled = day.on_hand.clerks === 0;
  renderStaffing();
  renderTicket();
  renderQueue();
  renderBookings();
  renderStats();
}

function renderStaffing() {
  const day = counter.today;
  const hand = day.on_hand;
  const banner = $("#staffing");
  const fact = (key, value) => el("span", { class: "fact", dataset: { key } }, `${t(key)} `, el("b", {}, String(value)));
  banner.hidden = false;
  banner.className = `staffing ${day.staffed ? "staffed" : "unstaffed"}`;
  banner.dataset.staffed = day.staffed ? "1" : "0";
  fill(
    banner,
    el("strong", {}, day.staffed ? `${t("counter.onhand")}：` : t("counter.empty")),
    fact("counter.clerks", hand.clerks),
    fact("counter.officers", hand.counter_officers),
    fact("counter.standing", hand.standing_by),
    fact("counter.out", hand.out),
  );
  const issue = $("#walk-in button[type=submit]");
  issue.disabled = !day.staffed;
  issue.title = day.staffed ? "" : t("counter.walkin.stopped");
  const stopped = $("#walk-in-stopped");
  stopped.hidden = day.staffed;
  stopped.textContent = t("counter.walkin.stopped");
}

function time(iso) {
  return iso ? new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso)) : "–";
}

function marks(ticket) {
  return [
    ticket.booked && el("span", { class: "chip booked" }, t("counter.booked")),
    ticket.priority && el("span", { class: "chip priority" }, t("counter.priority.short")),
  ];
}

function renderTicket() {
  const ticket = counter.today.tickets.find((tk) => tk.id === counter.current);
  $("#ticket-actions").hidden = !ticket;
  fill(
    $("#ticket"),
    ticket
      ? el(
          "div",
          { class: `now ${ticket.state}`, dataset: { ticket: ticket.id } },
          el("span", { class: "number" }, ticket.number),
          el("span", { class: "service" }, serviceName(ticket.service)),
          marks(ticket),
          el("span", { class: "state" }, t(`ticket.${ticket.state}`)),
        )
      : el("p", { class: "hint" }, t("counter.nocurrent")),
  );
  if (!ticket) return;
  $("[data-act=serve]").disabled = ticket.state !== "called";
  $("[data-act=recall]").disabled = ticket.state !== "called";
  $("[data-act=no-show]").disabled = ticket.state !== "called";
  const done = $("#done").elements.services;
  if (done.dataset.ticket !== String(ticket.id)) {
    for (const option of done.options) option.selected = option.value === ticket.service;
    done.dataset.ticket = String(ticket.id);
  }
}

function renderQueue() {
  const tickets = counter.today.tickets;
  const head = el("tr", {}, ["counter.col.number", "counter.col.service", "counter.col.kind", "counter.col.state", "counter.col.issued", "counter.col.waited"].map((k) => el("th", {}, t(k))));
  fill(
    $("#queue"),
    el("thead", {}, head),
    el(
      "tbody",
      {},
      tickets.length === 0 && el("tr", {}, el("td", { colspan: 6, class: "hint" }, t("counter.noqueue"))),
      tickets.map((ticket) =>
        el(
          "tr",
          { class: `${ticket.state}${ticket.id === counter.current ? " chosen" : ""}`, dataset: { ticket: ticket.id, number: ticket.number } },
          el("td", { class: "number" }, ticket.number),
          el("td", {}, serviceName(ticket.service)),
          el("td", {}, marks(ticket)),
          el("td", { class: "state" }, t(`ticket.${ticket.state}`)),
          el("td", {}, time(ticket.issued_at)),
          el("td", {}, ticket.state === "waiting" ? clock(since(ticket.issued_at)) : ticket.called_at ? clock((Date.parse(ticket.called_at) - Date.parse(ticket.issued_at)) / 1000) : "–"),
        ),
      ),
    ),
  );
}

function renderBookings() {
  const bookings = counter.today.bookings;
  const head = el("tr", {}, ["counter.col.slot", "counter.col.service", "counter.col.citizen", "counter.col.phone", "counter.col.state"].map((k) => el("th", {}, t(k))));
  fill(
    $("#bookings"),
    el("thead", {}, head),
    el(
      "tbody",
      {},
      bookings.length === 0 && el("tr", {}, el("td", { colspan: 5, class: "hint" }, t("counter.nobookings"))),
      bookings.map((b) =>
        el(
          "tr",
          { class: `${b.state}${b.flagged ? " flagged" : ""}`, dataset: { state: b.state, flagged: b.flagged ? "1" : "0" } },
          el("td", {}, time(b.starts_at), b.flagged && el("span", { class: "chip flagged", title: t("counter.flagged.why") }, t("counter.flagged"))),
          el("td", {}, serviceName(b.service)),
          el("td", {}, [b.name_masked, b.id_masked].filter(Boolean).join(" ")),
          el("td", {}, b.phone_masked ?? ""),
          el("td", { class: "state" }, t(`kiosk.state.${b.state}`)),
        ),
      ),
    ),
  );
}

function renderStats() {
  const s = counter.today.stats;
  const yuan = (v) => `${(v ?? 0).toFixed(1)} ${t("kiosk.yuan")}`;
  const rows = [
    ["served_today", s.served_today],
    ["booked_served", s.booked_served],
    ["walk_in_served", s.walk_in_served],
    ["mean_wait", s.mean_wait_s == null ? "–" : clock(s.mean_wait_s)],
    ["travel_saved", yuan(s.travel_saved_yuan)],
    ["served_total", s.served_total],
    ["travel_saved_total", yuan(s.travel_saved_total_yuan)],
  ];
  fill(
    $("#figures"),
    rows.flatMap(([key, value]) => [el("dt", {}, t(`counter.stat.${key}`)), el("dd", { dataset: { stat: key } }, String(value))]),
  );
}
