// What the citizen page's modules share: the page's state (window.jx, read by the tests), the
// kiosks' dates and times, the server's refusals shown next to their fields, the day and slot
// buttons (the booking and its change both pick a slot), the code's QR and this phone's codes.

import { ApiError, api } from "./api.js";
import { $, $$, el, fill } from "./dom.js";
import { lang, t } from "./i18n.js";

export const TZ = "Asia/Shanghai"; // the kiosks' time zone (the settings' default)
export const DAYS_SHOWN = 14;
export const CODES = "jx.kiosk.codes"; // this phone's booking codes, newest first
export const ACTIVE = ["held", "booked"];

export const citizen = {
  kiosks: [], // GET /api/public/kiosks (staffed, waiting)
  nearest: null, // the last search: {origin, kiosks}
  services: [],
  kiosk: null,
  service: null,
  start: null, // the first day shown
  slots: null, // GET /api/public/slots
  day: null, // the date chosen
  slot: null, // the slot chosen
  hold: null, // {code, expires_at}
  booking: null, // "my booking" shown
  change: { slots: null, day: null, slot: null },
};
window.jx = citizen; // tests read the page's state here

// -- dates and times -------------------------------------------------------------------------------

/** YYYY-MM-DD of `at` at the kiosks. */
export function dayOf(at = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(at);
}

export function today() {
  return dayOf(new Date());
}

export function addDays(day, n) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function dayLabel(day) {
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "numeric", day: "numeric", weekday: "short" }).format(new Date(`${day}T12:00:00Z`));
}

export function when(iso) {
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  const options = { timeZone: TZ, year: "numeric", month: "numeric", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false };
  return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
}

export function clockOf(iso) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

export function named(item, base = "name") {
  return (lang() === "en" && item[`${base}_en`]) || item[`${base}_zh`] || item[base] || "";
}

// -- messages -------------------------------------------------------------------------------------

/** Show an error in a card's alert line (empty clears it). */
export function say(card, error) {
  const line = $(".error", card);
  if (line) line.textContent = error ? message(error) : "";
}

export function message(error) {
  return error instanceof ApiError ? error.message : String(error?.message || error);
}

/** Which field of the citizen's form a refusal is about: the validator's field, else the rule
 * its message names. */
function fieldOf(error) {
  const problem = error.body?.problems?.[0]?.field;
  if (problem) return problem.split(".").pop();
  const text = error.message || "";
  if (/GB 11643|\bid[_ ]number\b|ID card/i.test(text)) return "id_number";
  if (/\bphone\b/i.test(text)) return "phone";
  if (/\bname\b/i.test(text) && !/service|kiosk/i.test(text)) return "name";
  return "";
}

export function clearFormErrors(form) {
  for (const line of $$(".error", form)) line.textContent = "";
}

export function showFormError(form, error) {
  const name = error instanceof ApiError && error.status === 422 ? fieldOf(error) : "";
  const known = $$(".error[data-for]", form).map((line) => line.dataset.for);
  const line = $(`.error[data-for="${known.includes(name) ? name : ""}"]`, form);
  line.textContent = message(error);
  if (name && known.includes(name)) form.elements[name]?.focus();
}

// -- days and slots ------------------------------------------------------------------------------

/** A day's holiday and "calendar assumed" marks. */
export function dayMarks(day) {
  return [
    day.day_kind === "holiday" && el("span", { class: "mark holiday" }, day.holiday ? `${t("kiosk.holiday")} ${day.holiday}` : t("kiosk.holiday")),
    day.day_kind === "holiday" || !day.holiday ? null : el("span", { class: "mark holiday" }, day.holiday),
    day.assumed && el("span", { class: "mark assumed", title: t("kiosk.assumed.why") }, t("kiosk.assumed")),
  ];
}

export async function slotsOf(kioskId, service, start) {
  const query = new URLSearchParams({ kiosk_id: kioskId, service, start, days: DAYS_SHOWN });
  return api("GET", `/api/public/slots?${query}`);
}

export function renderDays(node, slots, chosen, onChoose) {
  $("#calendar-note").textContent = citizen.slots?.calendar_note || "";
  fill(
    node,
    (slots?.days || []).map((day) => {
      const free = day.slots.reduce((n, s) => n + s.free, 0);
      const kind = [day.day_kind, free === 0 && "full", chosen === day.date && "chosen"].filter(Boolean).join(" ");
      return el(
        "button",
        { type: "button", class: `day ${kind}`, dataset: { date: day.date }, onclick: () => onChoose(day.date) },
        el("strong", {}, dayLabel(day.date)),
        dayMarks(day),
        el("small", {}, day.slots.length === 0 ? t("kiosk.closed") : free === 0 ? t("kiosk.full") : `${t("kiosk.free.n")} ${free}`),
      );
    }),
  );
}

export function daySlots(slots = citizen.slots, day = citizen.day) {
  return slots?.days.find((d) => d.date === day)?.slots || [];
}

export function slotButtons(slots, chosen, onChoose) {
  return slots.map((slot) =>
    el(
      "button",
      {
        type: "button",
        class: ["slot", slot.after_hours && "after-hours", slot.free === 0 && "full", chosen?.starts_at === slot.starts_at && "chosen"].filter(Boolean).join(" "),
        disabled: slot.free === 0,
        dataset: { starts: slot.starts_at, time: slot.local_time },
        onclick: () => onChoose(slot),
      },
      el("strong", {}, slot.local_time),
      slot.after_hours && el("em", {}, t("kiosk.afterhours")),
      el("small", {}, slot.free === 0 ? t("kiosk.full") : `${t("kiosk.free.n")} ${slot.free}`),
    ),
  );
}

// -- codes ---------------------------------------------------------------------------------------

/** The code's QR: the server's SVG as a data: URL (the page's policy allows no blob: image). */
export async function showQr(node, code) {
  fill(node);
  const reply = await fetch("/api/public/bookings/qr", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "image/svg+xml" },
    body: JSON.stringify({ code }),
  });
  if (!reply.ok) {
    fill(node, el("p", { class: "error" }, `${t("kiosk.noqr")} (HTTP ${reply.status})`));
    return;
  }
  const svg = await reply.text();
  fill(node, el("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt: code, width: 220, height: 220 }));
}

export function savedCodes() {
  try {
    return JSON.parse(localStorage.getItem(CODES) || "[]");
  } catch {
    return [];
  }
}

export function rememberCode(code) {
  localStorage.setItem(CODES, JSON.stringify([code, ...savedCodes().filter((c) => c !== code)].slice(0, 5)));
}
