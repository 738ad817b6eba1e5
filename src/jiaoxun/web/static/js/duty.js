// The commander's duty page (勤务排班): a month and a shift pattern; the kiosk's cover demands
// and the month's leave and requests (duty-inputs.js); the month solved by the server (POST
// /api/duty/rosters blocks while CP-SAT runs: the page counts the seconds) with its status,
// objective against the best bound, or why no roster exists; the kiosk's calendar
// (duty-calendar.js); publishing a draft by its version; the month's rosters; the cars' crews
// and the attendance flags now (duty-crews.js), read again every 30 s. The choice is kept in
// the address.

import { api, describe, login, session } from "./api.js";
import { $, boot, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { renderCalendar, renderLegend, shiftName } from "./duty-calendar.js";
import { loadCrews, renderCrews } from "./duty-crews.js";
import { loadDemands, renderAbsenceForm, renderAbsences, renderDemands, setUpInputs } from "./duty-inputs.js";

const TZ = "Asia/Shanghai"; // the city's time zone (the settings' default)
const REFRESH_MS = 30000;
const MANAGERS = ["commander", "admin"];
const SOLVED = ["optimal", "feasible"];

const duty = {
  patterns: [],
  kiosks: [],
  officers: [], // the whole force, by badge
  overrides: [], // the calendar's declared holidays and working days
  rosters: [], // of the month, newest first
  calendar: null, // the roster shown, for the kiosk chosen
  demands: [],
  absences: [],
  crews: [],
  flags: null, // null: not readable
  solving: null, // {started} while the server solves
};
window.jx = duty; // the tests read the page's state here
// what the page's parts (duty-inputs.js, duty-crews.js) read of it
const page = { duty, choice, pattern, kioskName };

window.addEventListener("jx:language", () => render());

boot({ login, session, start });

async function start() {
  if (!MANAGERS.includes(session.user.role)) throw new Error(t("duty.forbidden"));
  const [patterns, kiosks, officers, overrides] = await Promise.all([
    api("GET", "/api/duty/patterns"),
    api("GET", "/api/public/kiosks"),
    api("GET", "/api/duty/officers"),
    api("GET", "/api/analytics/calendar"),
  ]);
  Object.assign(duty, { patterns, kiosks, officers, overrides });
  $("#roster").hidden = false;
  $("#logout").hidden = false;
  setUpToolbar();
  setUpInputs(page);
  $("#publish").addEventListener("click", publish);
  await Promise.all([loadMonth(), loadDemands(page), loadCrews(page)]);
  setInterval(() => loadCrews(page).catch(() => {}), REFRESH_MS);
  document.body.dataset.ready = "1";
}

// -- the toolbar -------------------------------------------------------------------------------

function thisMonth() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit" }).formatToParts(new Date());
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}`;
}

function choice() {
  const form = $("#toolbar").elements;
  return { month: form.month.value, pattern: form.pattern.value, kiosk: Number(form.kiosk.value) };
}

function pattern(code = choice().pattern) {
  return duty.patterns.find((p) => p.code === code)?.body ?? null;
}

function kioskName(id) {
  return duty.kiosks.find((k) => k.id === id)?.name ?? `#${id}`;
}

function fillChoices() {
  const form = $("#toolbar").elements;
  const [code, kiosk] = [form.pattern.value, form.kiosk.value];
  fill(form.pattern, duty.patterns.map((p) => el("option", { value: p.code }, `${shiftName(p.body)} (${p.code})`)));
  fill(form.kiosk, duty.kiosks.map((k) => el("option", { value: k.id }, k.name)));
  if (code) form.pattern.value = code;
  if (kiosk) form.kiosk.value = kiosk;
}

function setUpToolbar() {
  const form = $("#toolbar");
  const query = new URLSearchParams(location.search);
  fillChoices();
  form.elements.month.value = query.get("month") || thisMonth();
  form.elements.pattern.value = query.get("pattern") || (pattern("4t3s") ? "4t3s" : duty.patterns[0]?.code);
  if (query.get("kiosk")) form.elements.kiosk.value = query.get("kiosk");
  const keep = () => history.replaceState(null, "", `?${new URLSearchParams({ month: choice().month, pattern: choice().pattern, kiosk: choice().kiosk })}`);
  form.elements.month.addEventListener("change", () => {
    keep();
    loadMonth();
  });
  form.elements.pattern.addEventListener("change", () => {
    keep();
    loadDemands(page);
    render();
  });
  form.elements.kiosk.addEventListener("change", () => {
    keep();
    loadDemands(page);
    loadCalendar();
    renderAbsenceForm(page);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    solve();
  });
}

// -- solving and publishing --------------------------------------------------------------------

async function solve() {
  const form = $("#toolbar").elements;
  const number = (name) => Number(form[name].value);
  const body = {
    month: form.month.value,
    pattern: form.pattern.value,
    time_limit_s: number("time_limit_s"),
    min_rest_hours: number("min_rest_hours"),
    max_consecutive_days: number("max_consecutive_days"),
    max_hours_per_week: form.max_hours_per_week.value === "" ? null : number("max_hours_per_week"),
  };
  $("#problem").textContent = "";
  duty.solving = { started: performance.now() };
  const busy = $("#busy");
  const tick = () => {
    const seconds = Math.floor((performance.now() - duty.solving.started) / 1000);
    busy.textContent = `${t("duty.solving")} ${seconds} ${t("duty.s")} / ${body.time_limit_s} ${t("duty.s")}`;
  };
  tick();
  busy.hidden = false;
  $("#solve").disabled = true;
  const timer = setInterval(tick, 500);
  try {
    const roster = await api("POST", "/api/duty/rosters", body);
    await loadMonth(roster.id);
  } catch (error) {
    $("#problem").textContent = describe(error);
  } finally {
    clearInterval(timer);
    duty.solving = null;
    busy.hidden = true;
    $("#solve").disabled = false;
  }
}

async function publish() {
  const roster = duty.calendar?.roster;
  if (!roster) return;
  $("#publish-error").textContent = "";
  try {
    await api("POST", `/api/duty/rosters/${roster.id}/publish`, { version: roster.version });
  } catch (error) {
    $("#publish-error").textContent = describe(error);
  }
  await loadMonth(roster.id);
  await loadCrews(page);
}

/** The month's rosters and absences; the roster `shown` (or the one shown, the published one,
 * the newest) drawn. */
async function loadMonth(shown = duty.calendar?.roster.id) {
  const { month } = choice();
  const [rosters, absences] = await Promise.all([api("GET", `/api/duty/rosters?month=${month}`), api("GET", `/api/duty/absences?month=${month}`)]);
  duty.rosters = rosters;
  duty.absences = absences;
  const pick = rosters.find((r) => r.id === shown) ?? rosters.find((r) => r.state === "published") ?? rosters[0];
  await loadCalendar(pick?.id ?? null);
}

async function loadCalendar(id = duty.calendar?.roster.id ?? null) {
  duty.calendar = id == null ? null : await api("GET", `/api/duty/rosters/${id}?kiosk_id=${choice().kiosk}`);
  render();
}

// -- drawing -----------------------------------------------------------------------------------

function render() {
  $("#who").textContent = `${session.user.username} (${t(`role.${session.user.role}`)})`;
  fillChoices();
  const roster = duty.calendar?.roster ?? null;
  const shownPattern = roster ? pattern(roster.pattern_code) : null;
  renderResult(roster);
  $("#calendar-kiosk").textContent = kioskName(choice().kiosk);
  renderLegend($("#legend"), shownPattern);
  renderCalendar($("#calendar"), { calendar: duty.calendar, pattern: shownPattern, overrides: duty.overrides });
  renderRosters();
  renderDemands(page);
  renderAbsenceForm(page);
  renderAbsences(page);
  renderCrews(page);
}

function number(value, digits = 1) {
  return value == null ? "–" : Number(value).toFixed(digits);
}

function renderResult(roster) {
  const state = $("#roster-state");
  state.textContent = roster ? t(`duty.state.${roster.state}`) : "";
  state.className = `state ${roster?.state ?? ""}`;
  state.dataset.state = roster?.state ?? "";
  $("#publish").hidden = !(roster && roster.state === "draft" && SOLVED.includes(roster.status));
  const fact = (key, value, attributes = {}) => el("div", { class: "fact" }, el("dt", {}, t(key)), el("dd", { dataset: { key }, ...attributes }, value));
  fill(
    $("#result"),
    roster
      ? [
          fact("duty.col.id", `#${roster.id} · ${roster.pattern_code} · v${roster.version}`),
          fact("duty.status", t(`duty.status.${roster.status}`), { class: `status ${roster.status}`, dataset: { key: "duty.status", status: roster.status } }),
          fact("duty.objective", number(roster.objective)),
          fact("duty.bound", number(roster.bound)),
          fact("duty.gap", roster.gap == null ? "–" : `${(roster.gap * 100).toFixed(2)}%`),
          fact("duty.wall", `${number(roster.wall_s)} ${t("duty.s")}`),
          fact("duty.shifts", String(roster.shifts)),
          fact("duty.created", `${roster.created_by} ${when(roster.created_at)}`),
          roster.published_at && fact("duty.published", `${roster.published_by} ${when(roster.published_at)}`),
        ]
      : el("div", { class: "hint" }, t("duty.none")),
  );
  const why = $("#why");
  why.hidden = !roster?.why.length;
  fill($("ul", why), (roster?.why ?? []).map((sentence) => el("li", {}, sentence)));
}

function when(iso) {
  return new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

function renderRosters() {
  const shown = duty.calendar?.roster.id;
  const head = ["duty.col.id", "duty.pattern", "duty.col.state", "duty.status", "duty.objective", "duty.bound", "duty.gap", "duty.wall", "duty.created", "duty.published"];
  fill(
    $("#rosters"),
    el("thead", {}, el("tr", {}, head.map((k) => el("th", {}, t(k))))),
    el(
      "tbody",
      {},
      duty.rosters.length === 0 && el("tr", {}, el("td", { colspan: head.length, class: "hint" }, t("duty.none"))),
      duty.rosters.map((r) =>
        el(
          "tr",
          { class: `${r.state}${r.id === shown ? " chosen" : ""}`, dataset: { roster: r.id, state: r.state }, onclick: () => loadCalendar(r.id) },
          el("td", {}, `#${r.id}`),
          el("td", {}, r.pattern_code),
          el("td", { class: "state-cell" }, t(`duty.state.${r.state}`)),
          el("td", { class: `status ${r.status}` }, t(`duty.status.${r.status}`)),
          el("td", {}, number(r.objective)),
          el("td", {}, number(r.bound)),
          el("td", {}, r.gap == null ? "–" : `${(r.gap * 100).toFixed(2)}%`),
          el("td", {}, `${number(r.wall_s)} ${t("duty.s")}`),
          el("td", {}, `${r.created_by} ${when(r.created_at)}`),
          el("td", {}, r.published_at ? `${r.published_by} ${when(r.published_at)}` : ""),
        ),
      ),
    ),
  );
}

