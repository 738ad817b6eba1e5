// The incident detail panel: 1-3-5 timer and verdicts, recommendations with road ETAs and the
// plan's multi-point set, orders with their states, close with an outcome, the timeline.

import { api, describe } from "./api.js";
import { $, alertIn, el, fill } from "./dom.js";
import { clock, reason, t } from "./i18n.js";

const CLOSED = ["closed", "cancelled", "merged", "transferred"];
const OUTCOMES = ["resolved", "mediated", "referred", "arrested", "no_finding", "false_alarm"];

export async function renderDetail(incident, hooks) {
  const panel = $("#detail");
  panel.dataset.incident = incident.id;
  const bounds = incident.verdicts.map((v) => v.bound_s).sort((a, b) => a - b);
  fill(
    panel,
    el("h2", {}, incident.number, " ", el("span", { class: `state ${incident.state}` }, t(`incident.${incident.state}`))),
    el("p", {}, el("b", {}, `P${incident.priority} ${incident.category_name}`), ` · ${incident.zone ?? ""} · ${incident.address}`),
    incident.description && el("p", { class: "description" }, incident.description),
    (incident.caller_name || incident.caller_phone) && el("p", { class: "hint" }, `${incident.caller_name} ${incident.caller_phone}`),
    el(
      "p",
      {},
      `${t("detail.elapsed")} `,
      el("span", { class: "timer big", dataset: { since: incident.call_at, until: incident.arrived_at ?? incident.closed_at ?? "", bounds: bounds.join(",") } }),
      " ",
      verdictChips(incident.verdicts),
    ),
    incident.duplicates.length > 0 &&
      el(
        "div",
        { class: "warning", role: "alert" },
        `${t("intake.duplicates")}: `,
        incident.duplicates.map((d) => `${d.number} (${Math.round(d.distance_m)} m, ${d.minutes_apart} min)`).join("; "),
      ),
    el("div", { id: "recommendations" }),
    el("h3", {}, t("detail.orders")),
    ordersTable(incident.orders),
    !CLOSED.includes(incident.state) && closeForm(incident, hooks),
    el("h3", {}, t("detail.timeline")),
    el(
      "ol",
      { class: "timeline" },
      incident.timeline.map((e) =>
        el("li", {}, el("time", {}, new Date(e.at).toLocaleTimeString()), ` ${e.username} ${entityName(e.entity)} ${stateName(e.entity, e.from_state)}→${stateName(e.entity, e.to_state) || e.action} ${e.reason}`),
      ),
    ),
  );
  if (!CLOSED.includes(incident.state)) await renderRecommendations(incident, hooks);
}

const ENTITIES = { incident: "event.incident", order: "event.order", unit: "event.unit" };

function entityName(entity) {
  return ENTITIES[entity] ? t(ENTITIES[entity]) : entity;
}

/** A state of an incident, order or unit in the page's language ("" for none). */
function stateName(entity, state) {
  if (!state) return "";
  const key = `${entity}.${state}`;
  return t(key) === key ? state : t(key);
}

/** 1-3-5 tiers as chips: met, missed or running. */
export function verdictChips(verdicts) {
  return el(
    "span",
    { class: "verdicts" },
    verdicts.map((v) => {
      const met = v.met_from_call;
      const state = met === true ? "met" : met === false ? "missed" : "pending";
      return el("span", { class: `chip ${state}`, title: `${v.applies_to} ≤ ${clock(v.bound_s)}` }, `${v.tier} ${t(`verdict.${state}`)}`);
    }),
  );
}

function ordersTable(orders) {
  return el(
    "table",
    { class: "grid orders" },
    el(
      "tbody",
      {},
      orders.map((o) =>
        el(
          "tr",
          { dataset: { order: o.id, state: o.state }, class: o.overdue ? "overdue" : "" },
          el("td", {}, o.call_sign),
          el("td", { class: `order-state ${o.state}` }, t(`order.${o.state}`)),
          el("td", {}, `ETA ${clock(o.eta_s)}`),
          el("td", {}, new Date(o.issued_at).toLocaleTimeString()),
        ),
      ),
    ),
  );
}

async function renderRecommendations(incident, hooks) {
  const box = $("#recommendations");
  let rec;
  try {
    rec = await api("GET", `/api/incidents/${incident.id}/recommendations`);
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, describe(error)));
    return;
  }
  const chosen = new Set(rec.chosen);
  const rows = rec.candidates.map((c) =>
    el(
      "tr",
      { class: `${c.eligible ? "" : "ineligible"}${chosen.has(c.unit_id) ? " chosen" : ""}`, dataset: { unit: c.unit_id } },
      el("td", {}, el("input", { type: "checkbox", value: c.unit_id, checked: chosen.has(c.unit_id), disabled: !c.eligible })),
      el("td", {}, c.call_sign),
      el("td", {}, c.zone ?? ""),
      el("td", { class: "eta" }, clock(c.eta_s)),
      el("td", {}, verdictChips(c.verdicts)),
      el("td", { class: "reason", title: c.reason }, reason(c.reason)),
      el("td", {}, el("button", { type: "button", class: "link", onclick: () => hooks.drawRoutes(incident.id, [c.unit_id]) }, t("rec.route"))),
    ),
  );
  const dispatch = async (unitIds) => {
    try {
      await api("POST", `/api/incidents/${incident.id}/dispatch`, { unit_ids: unitIds });
      await hooks.refresh(incident.id);
    } catch (error) {
      alertIn(box, describe(error));
    }
  };
  const selected = () => [...box.querySelectorAll("input:checked")].map((i) => Number(i.value));
  fill(
    box,
    el("h3", {}, t("rec.title")),
    el("p", { class: "hint" }, `${t("rec.required")} ${rec.required_units}`, rec.shortfall > 0 && el("b", { class: "late" }, ` · ${t("rec.shortfall")} ${rec.shortfall}`)),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", id: "dispatch-plan", disabled: rec.chosen.length === 0, onclick: () => dispatch(rec.chosen) }, `${t("rec.dispatch.plan")} (${rec.chosen.length})`),
      el("button", { type: "button", id: "dispatch-selected", onclick: () => selected().length && dispatch(selected()) }, t("rec.dispatch.selected")),
    ),
    el("p", { class: "error", role: "alert" }),
    el(
      "div",
      { class: "scroll" },
      el(
        "table",
        { class: "grid candidates" },
        el("thead", {}, el("tr", {}, el("th"), el("th", {}, t("rec.unit")), el("th", {}, t("rec.zone")), el("th", {}, t("rec.eta")), el("th", {}, t("rec.verdict")), el("th", {}, t("rec.reason")), el("th"))),
        el("tbody", {}, rows),
      ),
    ),
  );
  if (rec.chosen.length) hooks.drawRoutes(incident.id, rec.chosen);
}

function closeForm(incident, hooks) {
  const form = el(
    "form",
    { class: "close" },
    el("h3", {}, t("detail.close")),
    el("label", {}, el("span", {}, t("detail.outcome")), el("select", { name: "outcome_code" }, OUTCOMES.map((o) => el("option", { value: o }, t(`outcome.${o}`))))),
    el("label", {}, el("span", {}, t("detail.outcome.text")), el("textarea", { name: "outcome_text", rows: 2, maxlength: 2000 })),
    el("button", { type: "submit" }, t("detail.close")),
    el("p", { class: "error", role: "alert" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api("POST", `/api/incidents/${incident.id}/close`, { outcome_code: data.get("outcome_code"), outcome_text: data.get("outcome_text") });
      await hooks.refresh(incident.id);
    } catch (error) {
      alertIn(form, describe(error));
    }
  });
  return form;
}
