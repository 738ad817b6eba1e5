// The citizen's page (no login, phone-first): the nearest kiosk by road travel time, each
// service's documents, fee and hours, a booking (a slot held while the form is filled in, the
// code and its QR), "my booking" (messages, change, cancel), the waiting list of a full day, and
// the violations lookup. Every refusal shows the server's own message, next to its field.
//
// This module: the nearest kiosk and each service's documents, fee and hours; kiosk-slots.js
// books a slot, kiosk-booking.js is "my booking" and the waiting list, kiosk-violations.js the
// violations lookup, kiosk-common.js holds what they share.

import { api } from "./api.js";
import { $, $$, el, fill } from "./dom.js";
import { switchLanguage, t, translate } from "./i18n.js";
import {
  cancelBooking,
  changeBooking,
  confirmOffer,
  findBooking,
  joinWaitlist,
  leaveWaitlist,
  renderBooking,
  renderSavedCodes,
  showView,
} from "./kiosk-booking.js";
import { citizen, dayLabel, dayMarks, named, renderDays, say, today } from "./kiosk-common.js";
import { book, chooseDay, loadSlots, renderBooked, renderHeld, renderSlots } from "./kiosk-slots.js";
import { lookUpViolations, renderViolations } from "./kiosk-violations.js";

window.addEventListener("jx:language", render);
window.addEventListener("jx:language", renderViolations);
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
