// The citizen's page (no login, phone-first): the nearest kiosk by road travel time, each
// service's documents, fee and hours, a booking (a slot held while the form is filled in, the
// code and its QR), "my booking" (messages, change, cancel), the waiting list of a full day, and
// the violations lookup. Every refusal shows the server's own message, next to its field.

import { ApiError, api } from "./api.js";
import { $, $$, el, fill } from "./dom.js";
import { lang, switchLanguage, t, translate } from "./i18n.js";

const TZ = "Asia/Shanghai"; // the kiosks' time zone (the settings' default)
const DAYS_SHOWN = 14;
const CODES = "jx.kiosk.codes"; // this phone's booking codes, newest first
const ACTIVE = ["held", "booked"];

const citizen = {
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

window.addEventListener("jx:language", render);
start();

async function start() {
  translate();
  $("#lang").addEventListener("click", switchLanguage);
  for (const button of $$(".steps button")) button.addEventListener("click", () => showView(button.dataset.view));
  $("#locate").addEventListener("click", locate);
  $("#address-form").addEventListener("submit", byAddress);
  $("#citizen-form").addEventListener("submit", book);
  $("#join-waitlist").addEventListener("click", joinWaitlist);
  $("#leave-waitlist").addEventListener("click", leaveWaitlist);
  $("#booked-mine").addEventListener("click", () => findBooking(citizen.booked.code));
  $("#find-form").addEventListener("submit", (event) => {
    event.preventDefault();
    findBooking(new FormData(event.target).get("code"));
  });
  $("#change").addEventListener("click", changeBooking);
  $("#cancel").addEventListener("click", cancelBooking);
  $("#confirm-offer").addEventListener("click", confirmOffer);
  $("#violations-form").addEventListener("submit", lookUpViolations);
  citizen.start = today();
  // each list on its own: the kiosks can be found while the catalogue cannot be read
  const [kiosks, services] = await Promise.allSettled([api("GET", "/api/public/kiosks"), api("GET", "/api/public/services")]);
  citizen.kiosks = kiosks.value ?? [];
  citizen.services = services.value ?? [];
  const failed = [kiosks, services].find((reply) => reply.status === "rejected");
  if (failed) say($("#find"), failed.reason);
  render();
  document.body.dataset.ready = "1";
}

function render() {
  renderKiosks();
  renderServices();
  renderHours();
  renderDays($("#days"), citizen.slots, citizen.day, chooseDay);
  renderSlots();
  renderHeld();
  renderBooked();
  renderSavedCodes();
  renderBooking();
}

function showView(name) {
  for (const b of $$(".steps button")) b.classList.toggle("active", b.dataset.view === name);
  for (const view of $$(".view")) view.hidden = view.id !== `view-${name}`;
  if (name === "mine") renderSavedCodes();
}

// -- dates and times -------------------------------------------------------------------------------

/** YYYY-MM-DD of `at` at the kiosks. */
function dayOf(at = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(at);
}

function today() {
  return dayOf(new Date());
}

function addDays(day, n) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function dayLabel(day) {
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "numeric", day: "numeric", weekday: "short" }).format(new Date(`${day}T12:00:00Z`));
}

function when(iso) {
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  const options = { timeZone: TZ, year: "numeric", month: "numeric", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false };
  return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
}

function clockOf(iso) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

function named(item, base = "name") {
  return (lang() === "en" && item[`${base}_en`]) || item[`${base}_zh`] || item[base] || "";
}

// -- messages -------------------------------------------------------------------------------------

/** Show an error in a card's alert line (empty clears it). */
function say(card, error) {
  const line = $(".error", card);
  if (line) line.textContent = error ? message(error) : "";
}

function message(error) {
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

function clearFormErrors(form) {
  for (const line of $$(".error", form)) line.textContent = "";
}

function showFormError(form, error) {
  const name = error instanceof ApiError && error.status === 422 ? fieldOf(error) : "";
  const known = $$(".error[data-for]", form).map((line) => line.dataset.for);
  const line = $(`.error[data-for="${known.includes(name) ? name : ""}"]`, form);
  line.textContent = message(error);
  if (name && known.includes(name)) form.elements[name]?.focus();
}

// -- the nearest kiosk -------------------------------------------------------------------------------

function locate() {
  say($("#find"), null);
  if (!navigator.geolocation) {
    say($("#find"), t("kiosk.nolocation"));
    return;
  }
  $("#origin").textContent = t("kiosk.locating");
  navigator.geolocation.getCurrentPosition(
    (position) => nearest({ lon: position.coords.longitude, lat: position.coords.latitude }),
    (problem) => {
      $("#origin").textContent = "";
      say($("#find"), `${t("kiosk.nolocation")} (${problem.message})`);
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

function byAddress(event) {
  event.preventDefault();
  const address = new FormData(event.target).get("address").trim();
  if (address) nearest({ address });
}

async function nearest(body) {
  say($("#find"), null);
  try {
    citizen.nearest = await api("POST", "/api/public/kiosks/nearest", body);
  } catch (error) {
    $("#origin").textContent = "";
    say($("#find"), error);
    return;
  }
  renderKiosks();
}

function renderKiosks() {
  const origin = citizen.nearest?.origin;
  $("#origin").textContent = origin ? `${t("kiosk.from")} ${origin.label || `${origin.lon.toFixed(5)}, ${origin.lat.toFixed(5)}`}` : "";
  const live = new Map(citizen.kiosks.map((k) => [k.id, k]));
  const rows = citizen.nearest ? citizen.nearest.kiosks : citizen.kiosks;
  fill(
    $("#kiosks"),
    rows.map((kiosk) => {
      const state = live.get(kiosk.id);
      return el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: citizen.kiosk?.id === kiosk.id ? "choice chosen" : "choice", dataset: { kiosk: kiosk.id }, onclick: () => chooseKiosk(kiosk) },
          el("strong", {}, kiosk.name),
          kiosk.travel_time_s != null && el("span", { class: "minutes" }, `${Math.max(1, Math.round(kiosk.travel_time_s / 60))} ${t("kiosk.min")}`),
          el("small", {}, [kiosk.landmark, kiosk.distance_m != null && `${(kiosk.distance_m / 1000).toFixed(1)} km`].filter(Boolean).join(" · ")),
          state && el("small", { class: state.staffed ? "staffed" : "unstaffed" }, state.staffed ? `${t("kiosk.staffed")} · ${t("kiosk.waiting")} ${state.waiting}` : t("kiosk.unstaffed")),
        ),
      );
    }),
  );
}

async function chooseKiosk(kiosk) {
  citizen.kiosk = kiosk;
  $("#services").hidden = false;
  renderKiosks();
  renderServices();
  loadHours();
  if (citizen.service) loadSlots();
  $("#services").scrollIntoView({ behavior: "smooth", block: "start" });
}

/** The kiosk's week of opening windows: the chosen service's own, else every service's. */
async function loadHours() {
  const { kiosk, service } = citizen;
  citizen.hours = null;
  say($("#services"), null);
  const query = service ? `?${new URLSearchParams({ service: service.code })}` : "";
  try {
    citizen.hours = await api("GET", `/api/public/kiosks/${kiosk.id}/hours${query}`);
  } catch (error) {
    say($("#services"), error);
  }
  renderHours();
}

// -- services and hours ------------------------------------------------------------------------------

function renderServices() {
  $("#kiosk-chosen").textContent = citizen.kiosk ? citizen.kiosk.name : "";
  fill(
    $("#service-list"),
    citizen.services.map((service) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: citizen.service?.code === service.code ? "choice chosen" : "choice", dataset: { service: service.code }, onclick: () => chooseService(service) },
          el("strong", {}, named(service)),
          el("small", {}, t(`kiosk.kind.${service.kind}`)),
          !service.bookable && el("small", {}, t("kiosk.notbookable")),
        ),
      ),
    ),
  );
  fill($("#service-detail"), citizen.service && serviceDetail(citizen.service));
}

function serviceDetail(service) {
  const documents = service.documents || [];
  const fee = service.fee_yuan ? `${service.fee_yuan} ${t("kiosk.yuan")}` : t("kiosk.free");
  return el(
    "div",
    { class: "service" },
    el("h3", {}, named(service)),
    el(
      "dl",
      { class: "facts" },
      service.eligible && [el("dt", {}, t("kiosk.eligible")), el("dd", {}, service.eligible)],
      service.excluded && [el("dt", {}, t("kiosk.excluded")), el("dd", {}, service.excluded)],
      el("dt", {}, t("kiosk.fee")),
      el("dd", { class: "fee" }, [fee, service.fee_note && ` (${service.fee_note})`].filter(Boolean).join("")),
      el("dt", {}, t("kiosk.timelimit")),
      el("dd", { class: "time-limit" }, service.time_limit_days ? `${service.time_limit_days} ${t("kiosk.workdays")}` : t("kiosk.onthespot")),
      service.channels?.length > 0 && [el("dt", {}, t("kiosk.channels")), el("dd", {}, service.channels.map((c) => t(`kiosk.channel.${c}`)).join("、"))],
    ),
    el("h3", {}, t("kiosk.documents")),
    el(
      "ul",
      { class: "documents" },
      documents.length === 0 && el("li", {}, t("kiosk.nodocuments")),
      documents.map((doc) =>
        el("li", {}, named(doc), doc.form && el("span", { class: "chip" }, t(`kiosk.form.${doc.form}`)), doc.validity && el("small", {}, ` ${doc.validity}`)),
      ),
    ),
  );
}

function renderHours() {
  const days = citizen.hours?.days || [];
  fill(
    $("#hours"),
    days.map((day) =>
      el(
        "li",
        { class: day.day_kind, dataset: { date: day.date } },
        el("span", { class: "day" }, dayLabel(day.date)),
        dayMarks(day),
        el(
          "span",
          { class: "windows" },
          day.windows.length === 0 && el("span", { class: "closed" }, t("kiosk.closed")),
          day.windows.map((w) => el("span", { class: w.after_hours ? "window after-hours" : "window" }, `${w.starts}–${w.ends}`, w.after_hours && el("em", {}, t("kiosk.afterhours")))),
        ),
      ),
    ),
  );
}

/** A day's holiday and "calendar assumed" marks. */
function dayMarks(day) {
  return [
    day.day_kind === "holiday" && el("span", { class: "mark holiday" }, day.holiday ? `${t("kiosk.holiday")} ${day.holiday}` : t("kiosk.holiday")),
    day.day_kind === "holiday" || !day.holiday ? null : el("span", { class: "mark holiday" }, day.holiday),
    day.assumed && el("span", { class: "mark assumed", title: t("kiosk.assumed.why") }, t("kiosk.assumed")),
  ];
}

function chooseService(service) {
  citizen.service = service;
  renderServices();
  loadHours();
  if (!service.bookable) {
    $("#booking").hidden = true;
    return;
  }
  $("#booking").hidden = false;
  loadSlots();
}

// -- booking ----------------------------------------------------------------------------------------

async function slotsOf(kioskId, service, start) {
  const query = new URLSearchParams({ kiosk_id: kioskId, service, start, days: DAYS_SHOWN });
  return api("GET", `/api/public/slots?${query}`);
}

async function loadSlots() {
  const { kiosk, service } = citizen;
  $("#slot-error").textContent = "";
  try {
    citizen.slots = await slotsOf(kiosk.id, service.code, citizen.start);
  } catch (error) {
    citizen.slots = null;
    $("#slot-error").textContent = message(error);
  }
  if (!citizen.slots?.days.some((d) => d.date === citizen.day)) citizen.day = null;
  if (citizen.slot && !daySlots().some((s) => s.starts_at === citizen.slot.starts_at)) citizen.slot = null;
  renderDays($("#days"), citizen.slots, citizen.day, chooseDay);
  renderSlots();
  renderHeld();
  document.body.dataset.slotsLoaded = String(Number(document.body.dataset.slotsLoaded || 0) + 1);
}

function renderDays(node, slots, chosen, onChoose) {
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

function daySlots(slots = citizen.slots, day = citizen.day) {
  return slots?.days.find((d) => d.date === day)?.slots || [];
}

function chooseDay(day) {
  citizen.day = day;
  citizen.slot = null;
  renderDays($("#days"), citizen.slots, citizen.day, chooseDay);
  renderSlots();
  renderHeld();
}

function slotButtons(slots, chosen, onChoose) {
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

function renderSlots() {
  const slots = daySlots();
  const full = citizen.day != null && slots.length > 0 && slots.every((s) => s.free === 0);
  const more = citizen.slots && el("button", { type: "button", class: "secondary", onclick: () => later(DAYS_SHOWN) }, t("kiosk.later"));
  const earlier = citizen.slots && citizen.start > today() && el("button", { type: "button", class: "secondary", onclick: () => later(-DAYS_SHOWN) }, t("kiosk.earlier"));
  fill($("#slots"), slotButtons(slots, citizen.slot, chooseSlot), el("div", { class: "paging" }, earlier, more));
  $("#waitlist-offer").hidden = !full;
  $("#join-waitlist").hidden = !full;
  $("#book").hidden = full;
  $("#book").disabled = !citizen.hold;
}

function later(days) {
  const start = addDays(citizen.start, days);
  citizen.start = start < today() ? today() : start;
  citizen.day = null;
  citizen.slot = null;
  loadSlots();
}

/** Hold the place while the form is filled in: a full slot is refused here, with the server's
 * message, before anything is typed. */
async function chooseSlot(slot) {
  const { kiosk, service } = citizen;
  $("#slot-error").textContent = "";
  citizen.slot = slot;
  citizen.hold = null;
  renderSlots();
  try {
    citizen.hold = await api("POST", "/api/public/holds", { kiosk_id: kiosk.id, service: service.code, starts_at: slot.starts_at });
  } catch (error) {
    citizen.slot = null;
    await loadSlots();
    $("#slot-error").textContent = message(error);
    return;
  }
  renderSlots();
  renderHeld();
  $("#citizen-form").elements.name.focus();
}

function renderHeld() {
  const { slot, hold } = citizen;
  $("#held").textContent = slot && hold ? `${t("kiosk.chosen")} ${when(slot.starts_at)} · ${t("kiosk.helduntil")} ${clockOf(hold.expires_at)}` : citizen.day ? t("kiosk.chooseslot") : t("kiosk.chooseday");
}

async function book(event) {
  event.preventDefault();
  const form = event.target;
  clearFormErrors(form);
  const { kiosk, service, slot, hold } = citizen;
  if (!slot) {
    $("#slot-error").textContent = t("kiosk.chooseslot");
    return;
  }
  const data = new FormData(form);
  const body = {
    kiosk_id: kiosk.id,
    service: service.code,
    starts_at: slot.starts_at,
    name: data.get("name").trim(),
    id_number: data.get("id_number").trim().toUpperCase(),
    phone: data.get("phone").trim(),
  };
  if (hold) body.code = hold.code;
  $("#book").disabled = true;
  let reply;
  try {
    reply = await api("POST", "/api/public/bookings", body);
  } catch (error) {
    $("#book").disabled = false;
    if (error instanceof ApiError && error.status === 409) {
      $("#slot-error").textContent = message(error);
      $("#slot-error").scrollIntoView({ block: "center" });
      citizen.hold = null;
      await loadSlots();
      $("#slot-error").textContent = message(error);
    } else showFormError(form, error);
    return;
  }
  rememberCode(reply.code);
  citizen.booked = { code: reply.code, booking: reply.booking, starts_at: slot.starts_at };
  citizen.hold = null;
  citizen.slot = null;
  form.reset();
  renderBooked();
  await showQr($("#booked-qr"), reply.code);
  $("#booked").scrollIntoView({ behavior: "smooth", block: "start" });
  loadSlots();
}

function renderBooked() {
  const booked = citizen.booked;
  $("#booked").hidden = !booked;
  if (!booked) return;
  $("#booked-code").textContent = booked.code;
  const service = citizen.services.find((s) => s.code === (booked.booking?.service ?? citizen.service?.code));
  $("#booked-when").textContent = [when(booked.booking?.starts_at ?? booked.starts_at), booked.booking?.kiosk_name ?? citizen.kiosk?.name, service && named(service)].filter(Boolean).join(" · ");
}

/** The code's QR: the server's SVG as a data: URL (the page's policy allows no blob: image). */
async function showQr(node, code) {
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

// -- the waiting list ---------------------------------------------------------------------------------

async function joinWaitlist() {
  const form = $("#citizen-form");
  clearFormErrors(form);
  const data = new FormData(form);
  const body = {
    kiosk_id: citizen.kiosk.id,
    service: citizen.service.code,
    day: citizen.day,
    name: data.get("name").trim(),
    id_number: data.get("id_number").trim().toUpperCase(),
    phone: data.get("phone").trim(),
  };
  try {
    const { code } = await api("POST", "/api/public/waitlist", body);
    citizen.waitlist = code;
  } catch (error) {
    showFormError(form, error);
    return;
  }
  $("#waitlisted").hidden = false;
  $("#waitlist-code").textContent = citizen.waitlist;
  say($("#waitlisted"), null);
  $("#waitlisted").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function leaveWaitlist() {
  try {
    await api("POST", "/api/public/waitlist/leave", { code: citizen.waitlist });
  } catch (error) {
    say($("#waitlisted"), error);
    return;
  }
  citizen.waitlist = null;
  $("#waitlisted").hidden = true;
}

// -- my booking -------------------------------------------------------------------------------------

function savedCodes() {
  try {
    return JSON.parse(localStorage.getItem(CODES) || "[]");
  } catch {
    return [];
  }
}

function rememberCode(code) {
  localStorage.setItem(CODES, JSON.stringify([code, ...savedCodes().filter((c) => c !== code)].slice(0, 5)));
}

function renderSavedCodes() {
  const codes = savedCodes();
  const input = $("#find-form").elements.code;
  if (!input.value && codes.length > 0) input.value = codes[0];
  fill(
    $("#saved-codes"),
    codes.map((code) => el("li", {}, el("button", { type: "button", class: "chip", onclick: () => findBooking(code) }, code))),
  );
}

async function findBooking(code) {
  showView("mine");
  const card = $("#view-mine section");
  say(card, null);
  $("#find-form").elements.code.value = code;
  let booking;
  try {
    booking = await api("POST", "/api/public/bookings/find", { code: code.trim() });
  } catch (error) {
    say(card, error);
    $("#mine").hidden = true;
    return;
  }
  citizen.booking = { ...booking, code: code.trim() };
  citizen.change = { slots: null, day: null, slot: null };
  $("#mine").hidden = false;
  say($("#mine"), null);
  $("#mine .saved").textContent = "";
  renderBooking();
  if (ACTIVE.includes(booking.state)) {
    await showQr($("#mine-qr"), citizen.booking.code);
    loadChangeSlots();
  } else fill($("#mine-qr"));
}

function renderBooking() {
  const booking = citizen.booking;
  if (!booking) return;
  $("#mine-code").textContent = booking.code;
  const service = (lang() === "en" && booking.service_name_en) || booking.service_name_zh || booking.service;
  const fact = (key, value, cls) => [el("dt", {}, t(key)), el("dd", { class: cls }, value)];
  fill(
    $("#mine-detail"),
    fact("kiosk.state", t(`kiosk.state.${booking.state}`), `state ${booking.state}`),
    fact("kiosk.kiosk", booking.kiosk_name),
    fact("kiosk.service", service),
    fact("kiosk.when", `${when(booking.starts_at)}–${clockOf(booking.ends_at)}`, "when"),
    fact("kiosk.name", booking.name_masked),
    fact("kiosk.id_number", booking.id_masked),
    fact("kiosk.phone", booking.phone_masked),
  );
  const messages = booking.messages || [];
  fill(
    $("#mine-messages"),
    messages.length === 0 && el("li", { class: "hint" }, t("kiosk.nomessages")),
    messages.map((m) => el("li", { class: m.kind }, el("time", {}, when(m.at)), " ", lang() === "en" ? m.text_en : m.text_zh)),
  );
  const active = ACTIVE.includes(booking.state);
  $("#confirm-offer").hidden = booking.state !== "held";
  $("#mine-actions").hidden = !active;
  if (active) renderChange();
}

async function loadChangeSlots() {
  const booking = citizen.booking;
  try {
    citizen.change.slots = await slotsOf(booking.kiosk_id, booking.service, today());
  } catch (error) {
    say($("#mine"), error);
    return;
  }
  renderChange();
}

function renderChange() {
  const change = citizen.change;
  renderDays($("#change-days"), change.slots, change.day, (day) => {
    change.day = day;
    change.slot = null;
    renderChange();
  });
  const slots = daySlots(change.slots, change.day).filter((s) => s.starts_at !== citizen.booking.starts_at);
  fill(
    $("#change-slots"),
    slotButtons(slots, change.slot, (slot) => {
      change.slot = slot;
      renderChange();
    }),
  );
  $("#change").disabled = !change.slot;
  const cancel = $("#cancel");
  cancel.textContent = t(cancel.dataset.armed ? "kiosk.cancel.again" : "kiosk.cancel");
}

async function changeBooking() {
  const { booking, change } = citizen;
  say($("#mine"), null);
  try {
    await api("POST", "/api/public/bookings/change", { code: booking.code, starts_at: change.slot.starts_at });
  } catch (error) {
    say($("#mine"), error);
    loadChangeSlots();
    return;
  }
  await findBooking(booking.code);
  $("#mine .saved").textContent = t("kiosk.changed");
}

/** Take the place the waiting list offered (held for the citizen until it expires). */
async function confirmOffer() {
  say($("#mine"), null);
  try {
    await api("POST", "/api/public/bookings/confirm", { code: citizen.booking.code });
  } catch (error) {
    say($("#mine"), error);
    return;
  }
  await findBooking(citizen.booking.code);
  $("#mine .saved").textContent = t("kiosk.state.booked");
}

/** Cancel on a second press (a dialog would not show on every phone). */
async function cancelBooking() {
  const button = $("#cancel");
  if (!button.dataset.armed) {
    button.dataset.armed = "1";
    button.textContent = t("kiosk.cancel.again");
    setTimeout(() => {
      delete button.dataset.armed;
      button.textContent = t("kiosk.cancel");
    }, 5000);
    return;
  }
  delete button.dataset.armed;
  say($("#mine"), null);
  try {
    await api("POST", "/api/public/bookings/cancel", { code: citizen.booking.code });
  } catch (error) {
    say($("#mine"), error);
    return;
  }
  await findBooking(citizen.booking.code);
  $("#mine .saved").textContent = t("kiosk.cancelled");
}

// -- violations -------------------------------------------------------------------------------------

async function lookUpViolations(event) {
  event.preventDefault();
  const form = event.target;
  say(form, null);
  const data = new FormData(form);
  const body = { plate: data.get("plate").trim().toUpperCase(), engine_tail: data.get("engine_tail").trim().toUpperCase() };
  let reply;
  try {
    reply = await api("POST", "/api/public/violations/lookup", body);
  } catch (error) {
    say(form, error);
    return;
  }
  citizen.violations = reply;
  renderViolations();
}

function renderViolations() {
  const reply = citizen.violations;
  if (!reply) return;
  const text = lang() === "en" ? reply.message_en : reply.message_zh;
  const rows = reply.violations || reply.records || [];
  fill(
    $("#violations"),
    text && el("p", { class: reply.available ? "answer" : "answer unavailable" }, text),
    rows.length > 0 &&
      el(
        "ul",
        { class: "messages" },
        rows.map((row) => el("li", {}, Object.values(row).filter((v) => v != null && typeof v !== "object").join(" · "))),
      ),
  );
}
window.addEventListener("jx:language", renderViolations);
