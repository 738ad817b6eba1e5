// The officer's next shifts on his phone page (GET /api/me/shifts): the day, the shift's name,
// its times and where he works it (his car's call sign, the kiosk's counter, foot patrol). It
// starts once the page has logged in (officer.js marks the body ready) and reads again every
// 5 minutes; an account that is no officer's says so.

import { ApiError, api } from "./api.js";
import { $, el, fill } from "./dom.js";
import { lang, t } from "./i18n.js";

const TZ = "Asia/Shanghai"; // the city's time zone (the settings' default)
const REFRESH_MS = 5 * 60 * 1000;
const SHOWN = 8;

const mine = { shifts: null, patterns: [], unlinked: false };

function local(iso, options) {
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", { timeZone: TZ, ...options }).format(new Date(iso));
}

function clockOf(iso) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

/** The shift's name from the pattern whose shift of that code starts at that time. */
function nameOf(shift) {
  const start = clockOf(shift.starts_at);
  const types = mine.patterns.flatMap((p) => p.body.shifts);
  const type = types.find((s) => s.code === shift.shift && s.start === start) ?? types.find((s) => s.code === shift.shift);
  return type ? (lang() === "en" ? type.name_en : type.name_zh) : "";
}

function where(shift) {
  if (shift.post === "car") return [shift.call_sign ?? t("shifts.post.car"), shift.role && t(`duty.role.${shift.role}`)].filter(Boolean).join(" · ");
  return t(`shifts.post.${shift.post}`);
}

function render() {
  const list = $("#my-shifts-list");
  if (!list) return;
  if (mine.unlinked) return fill(list, el("li", { class: "hint" }, t("shifts.unlinked")));
  if (mine.shifts == null) return fill(list);
  if (mine.shifts.length === 0) return fill(list, el("li", { class: "hint" }, t("shifts.none")));
  return fill(
    list,
    mine.shifts.slice(0, SHOWN).map((s) =>
      el(
        "li",
        { class: `shift post-${s.post}`, dataset: { day: s.day, shift: s.shift, post: s.post } },
        el("span", { class: "day" }, local(s.starts_at, { month: "2-digit", day: "2-digit", weekday: "short" })),
        el("span", { class: "name" }, `${s.shift} ${nameOf(s)}`),
        el("span", { class: "times" }, `${clockOf(s.starts_at)}–${clockOf(s.ends_at)}`),
        el("span", { class: "where" }, where(s)),
      ),
    ),
  );
}

async function load() {
  try {
    const [shifts, patterns] = await Promise.all([api("GET", "/api/me/shifts"), mine.patterns.length ? mine.patterns : api("GET", "/api/duty/patterns")]);
    Object.assign(mine, { shifts, patterns, unlinked: false });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) return; // the next round tries again
    mine.unlinked = true;
  }
  render();
  document.body.dataset.shifts = String(mine.shifts?.length ?? -1);
}

function whenReady() {
  let started = false;
  const begin = () => {
    if (started || document.body.dataset.ready !== "1") return;
    started = true;
    load();
    setInterval(load, REFRESH_MS);
  };
  new MutationObserver(begin).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
  begin();
}

window.addEventListener("jx:language", render);
whenReady();
