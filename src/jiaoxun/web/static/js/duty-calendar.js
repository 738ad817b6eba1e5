// A roster's month as a calendar: one row per officer of a kiosk (badge, name, 驾 licence and
// 事 accident icons), one column per day (rest days and holidays shaded), in each cell the
// shift he works coloured by shift (nights dark) with its post in the title; the day's heads
// per shift at the foot. Drawn from GET /api/duty/rosters/{id}?kiosk_id= and the pattern.

import { el, fill } from "./dom.js";
import { lang, t } from "./i18n.js";

const TZ = "Asia/Shanghai"; // the city's time zone (the settings' default)

/** The kind of `day` (ISO): the calendar's override if the command made one, else Saturday and
 * Sunday rest days. (The statutory holidays are the server's: the calendar reply does not carry
 * them yet, so only declared ones shade.) */
export function dayKind(day, overrides) {
  const override = overrides.find((o) => o.day === day);
  if (override) return override.workday ? "workday" : override.holiday ? "holiday" : "restday";
  const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
  return weekday === 0 || weekday === 6 ? "restday" : "workday";
}

export function shiftName(shift) {
  return shift ? (lang() === "en" ? shift.name_en : shift.name_zh) : "";
}

/** HH:MM in the city of an API time. */
export function localTime(iso) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

/** Where a shift is worked: the car's call sign, 窗 the counter, 巡 the patrol lines. */
export function postOf(shift) {
  if (shift.post === "car") return shift.call_sign ?? t("duty.post.car");
  return t(`duty.post.${shift.post}`);
}

/** The colour class of each shift code of `pattern`: by its place in the day, nights dark. */
function colours(pattern) {
  return new Map(pattern.shifts.map((s, i) => [s.code, s.night ? "night" : `s${i % 5}`]));
}

function skills(officer) {
  return el(
    "span",
    { class: "skills" },
    officer.licence && el("span", { class: "skill driver", title: `${t("duty.skill.driver.title")} ${officer.licence}` }, t("duty.skill.driver")),
    officer.accident && el("span", { class: "skill accident", title: t("duty.skill.accident.title") }, t("duty.skill.accident")),
  );
}

function headRow(days, overrides) {
  const weekday = new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", { weekday: "narrow", timeZone: "UTC" });
  return el(
    "tr",
    {},
    el("th", { class: "who" }, t("duty.col.officer")),
    days.map((day) => {
      const kind = dayKind(day, overrides);
      const holiday = overrides.find((o) => o.day === day && o.holiday)?.holiday;
      return el(
        "th",
        { class: `day ${kind}`, dataset: { day, kind }, title: [day, t(`duty.daykind.${kind}`), holiday].filter(Boolean).join(" ") },
        el("span", { class: "date" }, String(Number(day.slice(8)))),
        el("span", { class: "weekday" }, weekday.format(new Date(`${day}T12:00:00Z`))),
      );
    }),
    el("th", { class: "sum" }, t("duty.col.days")),
    el("th", { class: "sum" }, t("duty.col.nights")),
  );
}

function officerRow(officer, days, cells, { overrides, byCode, colour }) {
  const mine = cells.get(officer.id) ?? new Map();
  let nights = 0;
  const row = el(
    "tr",
    { dataset: { officer: officer.id } },
    el("th", { class: "who" }, el("span", { class: "badge" }, officer.badge), " ", el("span", { class: "name" }, officer.name), skills(officer)),
    days.map((day) => {
      const shift = mine.get(day);
      const kind = dayKind(day, overrides);
      if (!shift) return el("td", { class: `rest ${kind}`, dataset: { day } });
      const type = byCode.get(shift.shift);
      if (type?.night) nights += 1;
      const title = [
        `${day} ${shift.shift} ${shiftName(type)}`,
        `${localTime(shift.starts_at)}–${localTime(shift.ends_at)}`,
        postOf(shift),
        shift.role && t(`duty.role.${shift.role}`),
      ].filter(Boolean).join(" · ");
      return el(
        "td",
        { class: `work ${colour.get(shift.shift) ?? "s0"} ${kind}`, title, dataset: { day, shift: shift.shift, post: shift.post } },
        shift.shift,
        shift.post !== "car" && el("small", { class: "post" }, t(`duty.post.${shift.post}`)),
      );
    }),
    el("td", { class: "sum" }, String(mine.size)),
    el("td", { class: "sum" }, String(nights)),
  );
  return row;
}

/** Per day and shift: the heads at the kiosk, their cars, counter and patrol in the title. */
function coverRows(days, shifts, pattern, colour) {
  const tally = new Map(); // "day|code" -> {heads, cars:Set, counter, patrol}
  for (const s of shifts) {
    const key = `${s.day}|${s.shift}`;
    const cover = tally.get(key) ?? { heads: 0, cars: new Set(), counter: 0, patrol: 0 };
    cover.heads += 1;
    if (s.post === "car") cover.cars.add(s.unit_id);
    else cover[s.post] += 1;
    tally.set(key, cover);
  }
  return pattern.shifts.map((type) =>
    el(
      "tr",
      { class: "cover", dataset: { shift: type.code } },
      el("th", { class: "who" }, el("span", { class: `swatch ${colour.get(type.code)}` }, type.code), ` ${shiftName(type)} · ${t("duty.total")}`),
      days.map((day) => {
        const cover = tally.get(`${day}|${type.code}`);
        if (!cover) return el("td", { class: "zero", dataset: { day } }, "0");
        const title = `${t("duty.cars")} ${cover.cars.size} · ${t("duty.counter")} ${cover.counter} · ${t("duty.patrol")} ${cover.patrol}`;
        return el("td", { title, dataset: { day, heads: cover.heads } }, String(cover.heads));
      }),
      el("td", { class: "sum" }),
      el("td", { class: "sum" }),
    ),
  );
}

/** Draw `calendar` (the API's reply for one kiosk) into `table`. */
export function renderCalendar(table, { calendar, pattern, overrides }) {
  if (!calendar || !pattern) {
    fill(table, el("tbody", {}, el("tr", {}, el("td", { class: "hint" }, t("duty.noroster")))));
    return;
  }
  const cells = new Map(); // officer id -> day -> shift
  for (const shift of calendar.shifts) {
    if (!cells.has(shift.officer_id)) cells.set(shift.officer_id, new Map());
    cells.get(shift.officer_id).set(shift.day, shift);
  }
  const byCode = new Map(pattern.shifts.map((s) => [s.code, s]));
  const colour = colours(pattern);
  const days = calendar.days;
  fill(
    table,
    el("thead", {}, headRow(days, overrides)),
    el("tbody", {}, calendar.officers.map((o) => officerRow(o, days, cells, { overrides, byCode, colour }))),
    el("tfoot", {}, coverRows(days, calendar.shifts, pattern, colour)),
  );
}

/** The shifts of `pattern` with their colours and times, and what the marks mean. */
export function renderLegend(node, pattern) {
  if (!pattern) return fill(node);
  const colour = colours(pattern);
  return fill(
    node,
    pattern.shifts.map((s) => el("span", { class: "item" }, el("span", { class: `swatch ${colour.get(s.code)}` }, s.code), ` ${shiftName(s)} ${s.start} +${s.hours}h`)),
    el("span", { class: "item" }, el("span", { class: "swatch rest restday" }), ` ${t("duty.daykind.restday")}`),
    el("span", { class: "item" }, `${t("duty.skill.driver")} ${t("duty.skill.driver.title")} · ${t("duty.skill.accident")} ${t("duty.skill.accident.title")} · ${t("duty.post.counter")} ${t("duty.counter")} · ${t("duty.post.patrol")} ${t("duty.patrol")}`),
  );
}
