// The counter's violations by plate: the clerk looks a vehicle's violations up, decides a pending
// one (a decision number typed from the form, or the system's) and marks a decided one paid;
// each refusal shows the server's message in the card.

import { api, describe } from "./api.js";
import { $, alertIn, el, fill } from "./dom.js";
import { both, timeOf, translateTraffic, tw } from "./traffic-words.js";

const BASE = "/api/traffic/violations";

export function setUpCounterViolations(counter) {
  const state = { plate: null, found: null };
  counter.violations = state;
  translateTraffic();
  const form = $("#violation-lookup");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.plate = form.elements.plate.value.trim().toUpperCase();
    look(state);
  });
  window.addEventListener("jx:language", () => render(state));
}

async function look(state) {
  const card = $("#violations-card");
  try {
    state.found = await api("POST", `${BASE}/lookup`, { plate: state.plate });
    alertIn(card, "");
  } catch (error) {
    state.found = null;
    alertIn(card, describe(error));
  }
  render(state);
}

async function act(state, violation, what, body) {
  const card = $("#violations-card");
  try {
    await api("POST", `${BASE}/${violation.id}/${what}`, { version: violation.version, ...body });
  } catch (error) {
    alertIn(card, describe(error));
    return;
  }
  await look(state);
}

function render(state) {
  const rows = state.found?.violations ?? [];
  const list = $("#violation-list");
  list.dataset.plate = state.found?.plate ?? "";
  fill(
    list,
    state.found && rows.length === 0 && el("li", { class: "hint" }, tw("vio.none")),
    rows.map((v) => {
      const decision = el("input", { name: "decision_number", maxlength: 40, autocomplete: "off", placeholder: tw("vio.decision") });
      return el(
        "li",
        { dataset: { id: v.id, number: v.number, state: v.state } },
        el("span", { class: "what" }, `${v.number} · ${v.code} ${both(v, "name")}`),
        el("span", { class: "when" }, `${new Date(v.at).toLocaleDateString()} ${timeOf(v.at)}`),
        v.place && el("span", {}, v.place),
        el("span", { class: "points" }, `${v.points} ${tw("vio.points")}`),
        el("span", { class: "fine" }, `${v.fine_yuan} ${tw("vio.yuan")}`),
        el("span", { class: `state ${v.state}` }, tw(`vio.state.${v.state}`)),
        v.decision_number && el("span", { class: "decision-number" }, v.decision_number),
        v.state === "pending" &&
          el(
            "span",
            { class: "actions" },
            decision,
            el("button", { type: "button", class: "decide", onclick: () => act(state, v, "decide", decision.value.trim() ? { decision_number: decision.value.trim() } : {}) }, tw("vio.decide")),
          ),
        v.state === "decided" && el("span", { class: "actions" }, el("button", { type: "button", class: "pay", onclick: () => act(state, v, "pay", {}) }, tw("vio.pay"))),
      );
    }),
  );
}
