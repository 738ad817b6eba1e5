// The citizen page's violations lookup ("查违法"): the plate and the engine number's last 6 (from
// the registration card, which proves the vehicle is the citizen's) give its violations with
// their points, fines and handling state; the server's refusal shown as it words it.

import { api } from "./api.js";
import { $, el, fill } from "./dom.js";
import { lang } from "./i18n.js";
import { citizen, say, when } from "./kiosk-common.js";
import { both, tw } from "./traffic-words.js";

export async function lookUpViolations(event) {
  event.preventDefault();
  const form = event.target;
  say(form, null);
  const data = new FormData(form);
  const body = { plate: data.get("plate").trim().toUpperCase(), engine_tail: data.get("engine_tail").trim().toUpperCase() };
  try {
    citizen.violations = await api("POST", "/api/public/violations/lookup", body);
  } catch (error) {
    citizen.violations = null;
    fill($("#violations"));
    say(form, error);
    return;
  }
  renderViolations();
}

export function renderViolations() {
  const reply = citizen.violations;
  if (!reply) return;
  const text = lang() === "en" ? reply.message_en : reply.message_zh;
  const rows = reply.violations || [];
  const open = rows.filter((v) => v.state !== "paid");
  const points = open.reduce((sum, v) => sum + v.points, 0);
  const fines = open.reduce((sum, v) => sum + v.fine_yuan, 0);
  fill(
    $("#violations"),
    text && el("p", { class: reply.available ? "answer" : "answer unavailable" }, text),
    reply.available !== false && rows.length === 0 && el("p", { class: "answer none" }, tw("vio.none")),
    rows.length > 0 && el("p", { class: "violations-total", dataset: { count: rows.length, points, fines } }, `${rows.length} · ${points} ${tw("vio.points")} · ${fines} ${tw("vio.yuan")}`),
    rows.length > 0 &&
      el(
        "ul",
        { class: "violations" },
        rows.map((v) =>
          el(
            "li",
            { dataset: { number: v.number, state: v.state } },
            el("span", { class: "what" }, `${v.code} ${both(v, "name")}`),
            el("span", { class: "when" }, when(v.at)),
            v.place && el("span", { class: "place" }, v.place),
            el("span", { class: "points" }, `${v.points} ${tw("vio.points")}`),
            el("span", { class: "fine" }, `${v.fine_yuan} ${tw("vio.yuan")}`),
            el("span", { class: `state ${v.state}` }, tw(`vio.state.${v.state}`)),
          ),
        ),
      ),
  );
}
