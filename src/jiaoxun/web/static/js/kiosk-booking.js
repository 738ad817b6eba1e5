// The citizen page's "my booking" (found by its code: messages, change, cancel, confirm an offer
// of the waiting list), the waiting list of a full day, and the violations lookup.

import { api } from "./api.js";
import { $, $$, el, fill } from "./dom.js";
import { lang, t } from "./i18n.js";
import {
  ACTIVE,
  citizen,
  clearFormErrors,
  clockOf,
  daySlots,
  renderDays,
  savedCodes,
  say,
  showFormError,
  showQr,
  slotButtons,
  slotsOf,
  today,
  when,
} from "./kiosk-common.js";

export function showView(name) {
  for (const b of $$(".steps button")) b.classList.toggle("active", b.dataset.view === name);
  for (const view of $$(".view")) view.hidden = view.id !== `view-${name}`;
  if (name === "mine") renderSavedCodes();
}

// -- the waiting list ---------------------------------------------------------------------------------

export async function joinWaitlist() {
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

export async function leaveWaitlist() {
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

export function renderSavedCodes() {
  const codes = savedCodes();
  const input = $("#find-form").elements.code;
  if (!input.value && codes.length > 0) input.value = codes[0];
  fill(
    $("#saved-codes"),
    codes.map((code) => el("li", {}, el("button", { type: "button", class: "chip", onclick: () => findBooking(code) }, code))),
  );
}

export async function findBooking(code) {
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

export function renderBooking() {
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

export async function changeBooking() {
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
export async function confirmOffer() {
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
export async function cancelBooking() {
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
