// What the duty page solves a month from: the kiosk's cover demands per shift and kind of day,
// edited as a table (PUT /api/duty/demands), and the month's leave and requests, added and taken
// back (POST and DELETE /api/duty/absences). `page` is the duty page: its state (`duty`), the
// toolbar's choice, the pattern chosen and the kiosks' names.

import { api, describe } from "./api.js";
import { $, $$, alertIn, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { shiftName } from "./duty-calendar.js";

const DAY_KINDS = ["workday", "restday", "holiday"];
const DEMAND_FIELDS = { cars: [0, 20], crew: [1, 6], counter: [0, 20], patrol: [0, 50] };

/** The demands' and the leave's forms. */
export function setUpInputs(page) {
  setUpDemands(page);
  setUpAbsences(page);
}

// -- cover demands -----------------------------------------------------------------------------

export async function loadDemands(page) {
  page.duty.demands = await api("GET", `/api/duty/demands?pattern=${page.choice().pattern}`);
  renderDemands(page);
}

function setUpDemands(page) {
  const form = $("#demands");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alertIn(form, "");
    $(".saved", form).textContent = "";
    const { pattern: code, kiosk } = page.choice();
    const rows = new Map();
    for (const input of $$("input[data-shift]", form)) {
      const key = `${input.dataset.shift}|${input.dataset.kind}`;
      const row = rows.get(key) ?? { kiosk_id: kiosk, shift: input.dataset.shift, day_kind: input.dataset.kind };
      row[input.dataset.field] = Number(input.value);
      rows.set(key, row);
    }
    try {
      await api("PUT", "/api/duty/demands", { pattern: code, demands: [...rows.values()] });
    } catch (error) {
      alertIn(form, describe(error));
      return;
    }
    await loadDemands(page);
    $(".saved", form).textContent = t("duty.saved");
  });
}

export function renderDemands(page) {
  const { kiosk } = page.choice();
  const body = page.pattern();
  $("#demands-kiosk").textContent = `${page.kioskName(kiosk)} · ${shiftName(body)}`;
  if (!body) return fill($("#demands table"));
  const mine = page.duty.demands.filter((d) => d.kiosk_id === kiosk);
  const input = (shift, kind, field) => {
    const row = mine.find((d) => d.shift === shift && d.day_kind === kind);
    const [min, max] = DEMAND_FIELDS[field];
    const value = row ? row[field] : field === "crew" ? 2 : 0;
    const name = `${shift}.${kind}.${field}`;
    return el("input", { type: "number", name, min, max, value, required: true, dataset: { shift, kind, field } });
  };
  fill(
    $("#demands table"),
    el("thead", {}, el("tr", {}, el("th", {}, t("duty.shift")), el("th", {}, t("duty.kind")), Object.keys(DEMAND_FIELDS).map((f) => el("th", {}, t(`duty.${f}`))))),
    el(
      "tbody",
      {},
      body.shifts.flatMap((s) =>
        DAY_KINDS.map((kind) =>
          el(
            "tr",
            { dataset: { shift: s.code, kind } },
            el("td", {}, `${s.code} ${shiftName(s)} ${s.start}`),
            el("td", {}, t(`duty.daykind.${kind}`)),
            Object.keys(DEMAND_FIELDS).map((f) => el("td", {}, input(s.code, kind, f))),
          ),
        ),
      ),
    ),
  );
}

// -- leave and requests ------------------------------------------------------------------------

function setUpAbsences(page) {
  const form = $("#absence");
  form.elements.kind.addEventListener("change", () => renderAbsenceForm(page));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alertIn(form, "");
    const data = new FormData(form);
    const body = {
      officer_id: Number(data.get("officer_id")),
      kind: data.get("kind"),
      first_day: data.get("first_day"),
      last_day: data.get("last_day"),
      reason: data.get("reason") || "",
    };
    if (body.kind === "shift") body.shift = data.get("shift");
    try {
      await api("POST", "/api/duty/absences", body);
    } catch (error) {
      alertIn(form, describe(error));
      return;
    }
    form.elements.reason.value = "";
    page.duty.absences = await api("GET", `/api/duty/absences?month=${page.choice().month}`);
    renderAbsences(page);
  });
}

export function renderAbsenceForm(page) {
  const form = $("#absence").elements;
  const chosen = form.officer_id.value;
  const mine = page.duty.officers.filter((o) => o.kiosk_id === page.choice().kiosk);
  fill(form.officer_id, mine.map((o) => el("option", { value: o.id }, `${o.badge} ${o.name}`)));
  if (chosen && mine.some((o) => String(o.id) === chosen)) form.officer_id.value = chosen;
  const shift = form.shift.value;
  fill(form.shift, (page.pattern()?.shifts ?? []).map((s) => el("option", { value: s.code }, `${s.code} ${shiftName(s)}`)));
  if (shift) form.shift.value = shift;
  $("#absence .for-shift").hidden = form.kind.value !== "shift";
  const first = `${page.choice().month}-01`;
  if (!form.first_day.value.startsWith(page.choice().month)) form.first_day.value = form.last_day.value = first;
}

export function renderAbsences(page) {
  const head = ["duty.officer", "duty.kind", "duty.first", "duty.last", "duty.shift", "duty.reason", "duty.col.by", ""];
  fill(
    $("#absences"),
    el("thead", {}, el("tr", {}, head.map((k) => el("th", {}, k && t(k))))),
    el(
      "tbody",
      {},
      page.duty.absences.length === 0 && el("tr", {}, el("td", { colspan: head.length, class: "hint" }, t("duty.noabsences"))),
      page.duty.absences.map((a) => {
        const who = page.duty.officers.find((o) => o.id === a.officer_id);
        return el(
          "tr",
          { dataset: { absence: a.id, officer: a.officer_id } },
          el("td", {}, who ? `${who.badge} ${who.name} · ${page.kioskName(who.kiosk_id)}` : `#${a.officer_id}`),
          el("td", {}, t(`duty.kind.${a.kind}`)),
          el("td", {}, a.first_day),
          el("td", {}, a.last_day),
          el("td", {}, a.shift ?? ""),
          el("td", {}, a.reason),
          el("td", {}, a.created_by),
          el("td", {}, el("button", { type: "button", class: "link", onclick: () => dropAbsence(page, a.id) }, t("duty.delete"))),
        );
      }),
    ),
  );
}

async function dropAbsence(page, id) {
  try {
    await api("DELETE", `/api/duty/absences/${id}`);
  } catch (error) {
    alertIn($("#absence"), describe(error));
  }
  page.duty.absences = await api("GET", `/api/duty/absences?month=${page.choice().month}`);
  renderAbsences(page);
}
