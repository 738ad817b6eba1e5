// The officer's violation form: the plate checked as it is typed (its kind, or the rule it
// breaks, in the server's words), the offence picked from the code table by code or name with
// its points and fine, the engine number's last 6 for the owner's lookup, a note and an
// evidence photo; the violation's number shown once recorded.

import { api, describe, session } from "./api.js";
import { $, alertIn, debounce, el, fill } from "./dom.js";
import { both, tw, upload, word } from "./traffic-words.js";

const BASE = "/api/traffic";

const form = { duty: null, codes: [], code: null, plate: null, saved: null };

/** The violation form behind its button; the code table is read when it is first opened. */
export function setUpViolations(duty, here) {
  form.duty = duty;
  form.here = here;
  duty.violation = form;
  const card = $("#violation");
  fill(
    card,
    word("h2", "vio.title"),
    el(
      "form",
      { id: "vio-form", novalidate: true },
      el("label", {}, word("span", "vio.plate"), el("input", { name: "plate", maxlength: 12, placeholder: "吉A12345", autocapitalize: "characters", autocomplete: "off", required: true })),
      el("p", { id: "vio-plate", class: "hint", role: "status" }),
      el("label", {}, word("span", "vio.code"), el("input", { name: "search", placeholder: tw("vio.code.search"), dataset: { twPlaceholder: "vio.code.search" }, autocomplete: "off" })),
      el("ul", { id: "vio-codes", class: "picklist codes" }),
      el("p", { id: "vio-code", class: "chosen" }),
      el("label", {}, word("span", "vio.engine"), el("input", { name: "engine_tail", maxlength: 6, autocapitalize: "characters", autocomplete: "off" })),
      el("label", {}, word("span", "vio.place"), el("input", { name: "place", maxlength: 200 })),
      el("label", {}, word("span", "vio.note"), el("input", { name: "note", maxlength: 500 })),
      el("label", { class: "shoot" }, word("span", "vio.photo"), el("input", { type: "file", name: "photo", accept: "image/*", capture: "environment", class: "file" })),
      el("p", { id: "vio-photo", class: "hint" }),
      word("button", "vio.submit", { type: "submit", class: "big" }),
      el("p", { class: "error", role: "alert" }),
      el("p", { id: "vio-saved", class: "saved", role: "status" }),
    ),
  );
  const f = $("#vio-form");
  f.elements.plate.addEventListener("input", debounce(checkPlate, 300));
  f.elements.search.addEventListener("input", showCodes);
  f.elements.photo.addEventListener("change", () => ($("#vio-photo").textContent = f.elements.photo.files[0]?.name ?? ""));
  f.addEventListener("submit", submit);
  window.addEventListener("jx:language", () => {
    showCodes();
    showCode();
    showPlate();
  });
  $("#open-violation").addEventListener("click", () => {
    card.hidden = !card.hidden;
    $("#open-violation").classList.toggle("on", !card.hidden);
    if (card.hidden) return;
    card.scrollIntoView({ block: "start" });
    form.loaded ??= api("GET", `${BASE}/codes`)
      .then((codes) => (form.codes = codes))
      .catch((error) => {
        form.loaded = null; // tried again on the next opening
        alertIn($("#vio-form"), describe(error));
      });
  });
}

async function checkPlate() {
  const plate = $("#vio-form").elements.plate.value.trim();
  if (!plate) {
    form.plate = null;
    return showPlate();
  }
  try {
    form.plate = { ok: true, reply: await api("POST", `${BASE}/plates/check`, { plate }) };
  } catch (error) {
    form.plate = { ok: false, message: describe(error) };
  }
  showPlate();
}

function showPlate() {
  const line = $("#vio-plate");
  const p = form.plate;
  line.className = p ? (p.ok ? "saved" : "error") : "hint";
  line.dataset.ok = p ? String(p.ok) : "";
  line.textContent = p ? (p.ok ? `${p.reply.plate} · ${both(p.reply)}` : p.message) : "";
}

function showCodes() {
  const q = $("#vio-form").elements.search.value.trim().toLowerCase();
  const hits = q ? form.codes.filter((c) => c.code.startsWith(q) || c.name_zh.includes(q) || c.name_en.toLowerCase().includes(q)).slice(0, 12) : [];
  fill(
    $("#vio-codes"),
    hits.map((c) =>
      el(
        "li",
        { dataset: { code: c.code }, onclick: () => chooseCode(c) },
        el("b", {}, c.code),
        ` ${both(c, "name")} `,
        el("small", {}, `${c.points} ${tw("vio.points")} · ${tw("vio.fine")} ${c.fine_yuan} ${tw("vio.yuan")}`),
      ),
    ),
  );
}

function chooseCode(code) {
  form.code = code;
  $("#vio-form").elements.search.value = "";
  showCodes();
  showCode();
}

function showCode() {
  const c = form.code;
  const line = $("#vio-code");
  line.dataset.code = c?.code ?? "";
  line.textContent = c ? `${c.code} ${both(c, "name")} · ${c.points} ${tw("vio.points")} · ${tw("vio.fine")} ${c.fine_yuan} ${tw("vio.yuan")}` : "";
}

/** Where the phone is now, else where the page last knew (the shared fix, the car's). */
function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(form.here());
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
      () => resolve(form.here()),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 10000 },
    );
  });
}

async function submit(event) {
  event.preventDefault();
  const f = event.target;
  $("#vio-saved").textContent = "";
  if (!form.code) return alertIn(f, tw("vio.needcode"));
  const body = { plate: f.elements.plate.value.trim(), code: form.code.code, unit_id: form.duty.me.unit.id, ...(await position()) };
  const tail = f.elements.engine_tail.value.trim().toUpperCase();
  const note = f.elements.note.value.trim();
  const place = f.elements.place.value.trim();
  if (tail) body.engine_tail = tail;
  if (note) body.note = note;
  if (place) body.place = place;
  let saved;
  try {
    saved = await api("POST", `${BASE}/violations`, body);
  } catch (error) {
    return alertIn(f, describe(error));
  }
  form.saved = saved;
  const photo = f.elements.photo.files[0];
  let refused = ""; // the violation stands all the same: its number is shown, the photo can follow
  if (photo) {
    try {
      form.photo = await upload(`${BASE}/violations/${saved.id}/photos`, { kind: "evidence", file: photo }, session.token);
    } catch (error) {
      refused = describe(error);
    }
  }
  alertIn(f, refused);
  f.reset();
  form.code = null;
  form.plate = null;
  showCode();
  showPlate();
  $("#vio-photo").textContent = "";
  const line = $("#vio-saved");
  line.dataset.number = saved.number;
  line.textContent = `${tw("vio.recorded")} ${saved.number} · ${saved.plate} · ${saved.points} ${tw("vio.points")} · ${saved.fine_yuan} ${tw("vio.yuan")}`;
}
