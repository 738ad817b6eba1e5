// The citizen page's booking: the days and slots of the chosen kiosk and service, a slot held
// while the form is filled in, the booking itself and its code and QR.

import { ApiError, api } from "./api.js";
import { $, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import {
  DAYS_SHOWN,
  addDays,
  citizen,
  clearFormErrors,
  clockOf,
  daySlots,
  message,
  named,
  rememberCode,
  renderDays,
  showFormError,
  showQr,
  slotButtons,
  slotsOf,
  today,
  when,
} from "./kiosk-common.js";

export async function loadSlots() {
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

export function chooseDay(day) {
  citizen.day = day;
  citizen.slot = null;
  renderDays($("#days"), citizen.slots, citizen.day, chooseDay);
  renderSlots();
  renderHeld();
}

export function renderSlots() {
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

export function renderHeld() {
  const { slot, hold } = citizen;
  $("#held").textContent = slot && hold ? `${t("kiosk.chosen")} ${when(slot.starts_at)} · ${t("kiosk.helduntil")} ${clockOf(hold.expires_at)}` : citizen.day ? t("kiosk.chooseslot") : t("kiosk.chooseday");
}

export async function book(event) {
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

export function renderBooked() {
  const booked = citizen.booked;
  $("#booked").hidden = !booked;
  if (!booked) return;
  $("#booked-code").textContent = booked.code;
  const service = citizen.services.find((s) => s.code === (booked.booking?.service ?? citizen.service?.code));
  $("#booked-when").textContent = [when(booked.booking?.starts_at ?? booked.starts_at), booked.booking?.kiosk_name ?? citizen.kiosk?.name, service && named(service)].filter(Boolean).join(" · ");
}
