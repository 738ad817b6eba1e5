// The officer's accident flow, one step at a time with big buttons for one thumb: the
// eligibility check (live: the procedure and why), the record of the scene with the phone's
// position, then for a settled accident the three photos, the parties, their signatures and
// the settlement, for a general one the timed scene-protection steps and the hand-over.
// Every refusal shows the server's message in the step's alert line; nothing typed is lost.
// This module: the flow and its first two steps; officer-steps.js holds the later ones.

import { api, describe } from "./api.js";
import { $, alertIn, debounce, el, fill } from "./dom.js";
import { handOverStep, partiesStep, photosStep, sceneStep, signStep } from "./officer-steps.js";
import { both, timeOf, translateTraffic, tw } from "./traffic-words.js";

export const BASE = "/api/traffic";
const KEPT = "jx.accident"; // the open accident of this tab, resumed after a reload
const WEATHER = ["clear", "cloudy", "rain", "snow", "fog", "ice", "wind", "other"];
const COLLISIONS = ["rear_end", "side", "head_on", "scrape", "reversing", "pedestrian", "object", "rollover", "other"];

export const flow = {
  duty: null, // the officer page's state (me, position)
  questions: [],
  answers: {},
  decision: null, // POST /eligibility's reply
  accident: null, // AccidentOut
  step: "check",
  record: { weather: "clear", collision: "rear_end", collision_point: "", damage: "", place: "" },
  where: null, // {lon, lat, from: "gps"|"unit"}
  parties: [{}, {}],
  signatures: {}, // seq: the name typed
  handOverTo: null,
};

/** The accident flow behind its button: the questions are read when it is first opened, or at
 * once when this tab holds an open accident to resume. */
export function setUpAccidents(duty) {
  flow.duty = duty;
  duty.traffic = flow;
  window.addEventListener("jx:language", render);
  translateTraffic();
  $("#open-accident").addEventListener("click", () => open({ toggle: true }));
  if (sessionStorage.getItem(KEPT)) open({ toggle: false });
}

function open({ toggle }) {
  const card = $("#accident");
  card.hidden = toggle && !card.hidden && Boolean(flow.started);
  $("#open-accident").classList.toggle("on", !card.hidden);
  if (!card.hidden) card.scrollIntoView({ block: "start" });
  flow.started ??= start().catch((error) => {
    flow.started = null; // tried again on the next opening
    refuse(error);
  });
}

async function start() {
  const { questions } = await api("GET", `${BASE}/eligibility`);
  flow.questions = questions;
  flow.answers = Object.fromEntries(questions.map((q) => [q.key, q.default ?? (q.kind === "count" ? 0 : false)]));
  const kept = Number(sessionStorage.getItem(KEPT));
  if (kept) {
    const accident = await api("GET", `${BASE}/accidents/${kept}`).catch(() => null);
    if (accident?.state === "open") return resume(accident);
    sessionStorage.removeItem(KEPT);
  }
  await check();
  render();
}

function resume(accident) {
  flow.accident = accident;
  flow.answers = { ...flow.answers, ...accident.answers };
  flow.decision = { procedure: accident.procedure, reasons: accident.reasons };
  flow.step = accident.procedure === "general" ? "scene" : "photos";
  render();
}

function steps() {
  const procedure = flow.accident?.procedure ?? flow.decision?.procedure;
  return procedure === "general" ? ["check", "record", "scene", "handover"] : ["check", "record", "photos", "parties", "sign"];
}

function go(step) {
  flow.step = step;
  alertIn($("#accident"), "");
  render();
  $("#accident").scrollIntoView({ block: "start" });
}

export function next() {
  const all = steps();
  go(all[Math.min(all.indexOf(flow.step) + 1, all.length - 1)]);
}

export function render() {
  const card = $("#accident");
  if (!card || !flow.questions.length) return;
  const a = flow.accident;
  const done = a && a.state !== "open";
  card.dataset.step = done ? "done" : flow.step;
  $("#acc-title").textContent = tw("acc.title");
  fill(
    $("#acc-head"),
    el("span", { id: "acc-number" }, a ? a.number : ""),
    a && el("span", { class: `state acc-${a.state}`, id: "acc-state", dataset: { state: a.state } }, tw(`acc.state.${a.state}`)),
  );
  fill(
    $("#acc-steps"),
    !done &&
      steps().map((step, i) =>
        el(
          "button",
          { type: "button", class: step === flow.step ? "active" : "", dataset: { step }, disabled: i > 1 && !a, onclick: () => go(step) },
          `${i + 1} ${tw(`acc.step.${step}`)}`,
        ),
      ),
  );
  const body = done ? finished() : { check: checkStep, record: recordStep, photos: photosStep, parties: partiesStep, sign: signStep, scene: sceneStep, handover: handOverStep }[flow.step]();
  fill($("#acc-body"), [body].flat(3));
}

export function bigButton(text, onclick, attributes = {}) {
  return el("button", { type: "button", class: "big", onclick, ...attributes }, text);
}

// -- 1: which procedure ------------------------------------------------------------------------------

const check = async () => {
  try {
    flow.decision = await api("POST", `${BASE}/eligibility`, { answers: flow.answers });
    alertIn($("#accident"), "");
  } catch (error) {
    alertIn($("#accident"), describe(error));
  }
};
const checkLive = debounce(async () => {
  await check();
  if (flow.step === "check") render();
}, 150);

function answer(key, value) {
  flow.answers[key] = value;
  render();
  checkLive();
}

function checkStep() {
  const locked = Boolean(flow.accident); // recorded: the check is kept with the record
  const rows = flow.questions.map((q) => {
    const value = flow.answers[q.key];
    const control =
      q.kind === "count"
        ? el(
            "span",
            { class: "counter" },
            el("button", { type: "button", class: "step", disabled: locked || value <= 0, onclick: () => answer(q.key, value - 1), "aria-label": "-" }, "−"),
            el("output", {}, String(value)),
            el("button", { type: "button", class: "step", disabled: locked, onclick: () => answer(q.key, value + 1), "aria-label": "+" }, "+"),
          )
        : el(
            "span",
            { class: "toggle" },
            [true, false].map((v) =>
              el("button", { type: "button", class: value === v ? "on" : "", "aria-pressed": String(value === v), disabled: locked, dataset: { value: String(v) }, onclick: () => answer(q.key, v) }, tw(v ? "acc.yes" : "acc.no")),
            ),
          );
    return el("li", { dataset: { question: q.key }, class: q.kind }, el("span", {}, both(q)), control);
  });
  // the procedure and the way on stay at the thumb while the questions scroll
  return [
    el("ul", { class: "questions" }, rows),
    el("div", { class: "footer" }, decisionBox(), bigButton(tw("acc.next"), () => go("record"), { id: "acc-to-record", disabled: !flow.decision })),
  ];
}

function decisionBox() {
  const d = flow.decision;
  if (!d) return null;
  return el(
    "div",
    { class: `decision ${d.procedure}`, id: "acc-decision", dataset: { procedure: d.procedure } },
    el("strong", {}, tw(`acc.procedure.${d.procedure}`)),
    el("ul", { class: "reasons" }, d.reasons.map((r) => el("li", { dataset: { rule: r.rule } }, both(r)))),
  );
}

// -- 2: the record -----------------------------------------------------------------------------------

function chips(name, values, prefix) {
  return el(
    "div",
    { class: "chips", dataset: { name } },
    values.map((v) =>
      el("button", { type: "button", class: flow.record[name] === v ? "on" : "", dataset: { value: v }, onclick: () => ((flow.record[name] = v), render()) }, tw(`${prefix}.${v}`)),
    ),
  );
}

export function kept(object, name, tag = "input", attributes = {}) {
  const node = el(tag, { name, ...attributes });
  node.value = object[name] ?? "";
  node.addEventListener("input", () => (object[name] = node.value));
  return node;
}

function locate() {
  const unit = flow.duty.me.unit;
  flow.where = unit?.lat != null ? { lon: unit.lon, lat: unit.lat, from: "unit" } : null;
  if (!navigator.geolocation) return;
  flow.locating = true;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      flow.locating = false;
      flow.where = { lon: position.coords.longitude, lat: position.coords.latitude, from: "gps" };
      if (flow.step === "record") render();
    },
    () => {
      flow.locating = false;
      if (flow.step === "record") render();
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 },
  );
}

function recordStep() {
  if (!flow.where && !flow.locating && !flow.accident) locate();
  const w = flow.where;
  const gps = flow.locating ? tw("acc.gps.wait") : w ? `${w.lon.toFixed(5)}, ${w.lat.toFixed(5)}` : tw("acc.gps.none");
  if (flow.accident) return [recordFacts(flow.accident), bigButton(tw("acc.next"), next)];
  return [
    decisionBox(),
    el("h3", {}, tw("acc.weather")),
    chips("weather", WEATHER, "acc.weather"),
    el("h3", {}, tw("acc.collision")),
    chips("collision", COLLISIONS, "acc.collision"),
    el("label", {}, el("span", {}, tw("acc.point")), kept(flow.record, "collision_point", "input", { maxlength: 200 })),
    el("label", {}, el("span", {}, tw("acc.damage")), kept(flow.record, "damage", "textarea", { rows: 2, maxlength: 2000 })),
    el("label", {}, el("span", {}, tw("acc.place")), kept(flow.record, "place", "input", { maxlength: 200 })),
    el("p", { class: "hint", id: "acc-gps", dataset: { from: w?.from ?? "" } }, `${tw("acc.gps")}: ${gps}`),
    bigButton(tw("acc.save"), save, { id: "acc-save", disabled: !w }),
  ];
}

function recordFacts(a) {
  return el(
    "dl",
    { class: "facts" },
    el("dt", {}, tw("acc.weather")),
    el("dd", {}, tw(`acc.weather.${a.weather}`)),
    el("dt", {}, tw("acc.collision")),
    el("dd", {}, tw(`acc.collision.${a.collision}`)),
    el("dt", {}, tw("acc.place")),
    el("dd", {}, [a.place, a.road].filter(Boolean).join(" · ") || `${a.lon.toFixed(5)}, ${a.lat.toFixed(5)}`),
  );
}

async function save() {
  const body = { unit_id: flow.duty.me.unit.id, lon: flow.where.lon, lat: flow.where.lat, answers: flow.answers, ...flow.record };
  try {
    flow.accident = await api("POST", `${BASE}/accidents`, body);
  } catch (error) {
    return refuse(error);
  }
  sessionStorage.setItem(KEPT, String(flow.accident.id));
  next();
}

export async function reload() {
  flow.accident = await api("GET", `${BASE}/accidents/${flow.accident.id}`);
}

/** Run a change of the accident; its reply (an AccidentOut) replaces the one held. */
export async function change(method, what, body) {
  try {
    flow.accident = await api(method, `${BASE}/accidents/${flow.accident.id}/${what}`, body);
    alertIn($("#accident"), "");
    return true;
  } catch (error) {
    refuse(error);
    return false;
  }
}

/** The server's refusal in the card's alert line, in sight; the party it names marked. */
export function refuse(error) {
  const card = $("#accident");
  const text = describe(error);
  alertIn(card, text);
  const seq = /\bpart(?:y|ies) \[?(\d+)/.exec(text)?.[1];
  for (const box of card.querySelectorAll("fieldset.party")) box.classList.toggle("refused", box.dataset.seq === seq);
  $(".error", card).scrollIntoView({ block: "nearest" });
}

// -- the end -----------------------------------------------------------------------------------------

function finished() {
  const a = flow.accident;
  sessionStorage.removeItem(KEPT);
  const number = a.agreement_number ? ["acc.agreement", a.agreement_number] : a.ruling_number ? ["acc.ruling", a.ruling_number] : null;
  return [
    el("p", { class: `decision ${a.procedure}` }, el("strong", {}, tw(`acc.procedure.${a.procedure}`))),
    number && el("p", { class: "result" }, `${tw(number[0])}: `, el("b", { id: "acc-result" }, number[1])),
    a.handed_over_to && el("p", { class: "result" }, `${tw("acc.handed")}: `, el("b", { id: "acc-result" }, a.handed_over_to), ` ${timeOf(a.handed_over_at)}`),
    recordFacts(a),
    bigButton(tw("acc.new"), restart, { id: "acc-new" }),
  ];
}

function restart() {
  Object.assign(flow, {
    accident: null,
    step: "check",
    where: null,
    parties: [{}, {}],
    signatures: {},
    handOverTo: null,
    record: { weather: "clear", collision: "rear_end", collision_point: "", damage: "", place: "" },
    answers: Object.fromEntries(flow.questions.map((q) => [q.key, q.default ?? (q.kind === "count" ? 0 : false)])),
  });
  check().then(render);
}
