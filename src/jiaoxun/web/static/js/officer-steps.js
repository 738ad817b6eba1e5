// The accident flow's later steps (see officer-traffic.js): for an accident settled on the
// street the three photos, the parties with their vehicles and liability, their signatures and
// the settlement; for a general one the timed scene-protection steps and the hand-over.

import { session } from "./api.js";
import { $, alertIn, el } from "./dom.js";
import { BASE, bigButton, change, flow, kept, next, refuse, reload, render } from "./officer-traffic.js";
import { timeOf, tw, upload } from "./traffic-words.js";

const PHOTOS = ["front_side", "rear_side", "impact"];
const SCENE = ["cordon", "traffic_directed", "injured_helped", "vehicles_placed", "parties_found", "witnesses_found", "evidence_fixed"];
const LIABILITY = ["full", "main", "equal", "secondary", "none"];
const PARTY_FIELDS = [
  ["name", "acc.name", { maxlength: 60, autocomplete: "off" }],
  ["id_number", "acc.id_number", { maxlength: 30, autocomplete: "off", autocapitalize: "characters" }],
  ["phone", "acc.phone", { maxlength: 30, inputmode: "tel", autocomplete: "off" }],
  ["plate", "acc.plate", { maxlength: 20, autocapitalize: "characters", autocomplete: "off" }],
  ["insurer", "acc.insurer", { maxlength: 100 }],
  ["policy_number", "acc.policy", { maxlength: 40, autocomplete: "off" }],
];

// -- 3: photos ---------------------------------------------------------------------------------------

export function photosStep() {
  const a = flow.accident;
  const taken = new Set(a.photos.map((p) => p.kind));
  const missing = a.missing_photos;
  return [
    el(
      "ul",
      { class: "photos" },
      PHOTOS.map((kind) => {
        const input = el("input", { type: "file", accept: "image/*", capture: "environment", name: kind, class: "file" });
        input.addEventListener("change", () => input.files[0] && shoot(kind, input.files[0]));
        const done = taken.has(kind);
        return el(
          "li",
          { dataset: { kind, taken: String(done) }, class: done ? "taken" : "" },
          el("span", { class: "tick" }, done ? "✓" : "○"),
          el("span", {}, tw(`acc.photo.${kind}`)),
          el("label", { class: "shoot" }, tw(done ? "acc.photo.again" : "acc.photo.take"), input),
        );
      }),
    ),
    el("p", { id: "acc-missing", class: missing.length ? "warning" : "saved" }, missing.length ? tw("acc.photo.missing") + missing.map((k) => tw(`acc.photo.${k}`)).join("、") : tw(a.procedure === "self_settlement" ? "acc.photo.all" : "acc.photo.optional")),
    bigButton(tw("acc.next"), next),
  ];
}

async function shoot(kind, file) {
  try {
    await upload(`${BASE}/accidents/${flow.accident.id}/photos`, { kind, file }, session.token);
    await reload();
    alertIn($("#accident"), "");
  } catch (error) {
    render();
    return refuse(error);
  }
  render();
}

// -- 4: parties --------------------------------------------------------------------------------------

export function partiesStep() {
  const recorded = flow.accident.parties;
  flow.parties = flow.parties.map((p, i) => (Object.keys(p).length || !recorded[i] ? p : { ...recorded[i] }));
  return [
    flow.parties.map((party, i) =>
      el(
        "fieldset",
        { class: "party", dataset: { seq: i + 1 } },
        el("legend", {}, tw(`acc.party.${i + 1}`)),
        PARTY_FIELDS.map(([name, key, attributes]) => el("label", {}, el("span", {}, tw(key)), kept(party, name, "input", attributes))),
        el("label", {}, el("span", {}, tw("acc.liability")), liabilitySelect(party)),
      ),
    ),
    bigButton(tw("acc.parties.save"), saveParties, { id: "acc-parties-save" }),
  ];
}

function liabilitySelect(party) {
  const select = el(
    "select",
    { name: "liability" },
    el("option", { value: "" }, tw("acc.liability.unset")),
    LIABILITY.map((v) => el("option", { value: v, selected: party.liability === v }, tw(`acc.liability.${v}`))),
  );
  select.addEventListener("change", () => (party.liability = select.value || null));
  return select;
}

async function saveParties() {
  // a card left empty is no party (a single vehicle's accident by the simple procedure)
  const typed = flow.parties.filter((p, i) => i === 0 || PARTY_FIELDS.some(([name]) => (p[name] ?? "").trim()));
  const parties = typed.map((p) => {
    const party = Object.fromEntries(PARTY_FIELDS.map(([name]) => [name, (p[name] ?? "").trim()]));
    return { ...party, id_kind: "resident_id", liability: p.liability || null };
  });
  if (await change("PUT", "parties", { version: flow.accident.version, parties })) next();
}

// -- 5: signatures and the settlement ------------------------------------------------------------

export function signStep() {
  const a = flow.accident;
  return [
    el(
      "ul",
      { class: "signatures" },
      a.parties.map((p) => {
        const state = p.refused ? "refused" : p.signed_at ? "signed" : "";
        return el(
          "li",
          { dataset: { seq: p.seq, state } },
          el("strong", {}, `${tw(`acc.party.${p.seq}`)} ${p.plate} · ${tw(`acc.liability.${p.liability ?? "unset"}`)}`),
          state
            ? el("span", { class: `signed ${state}` }, `${tw(`acc.${state}`)} ${p.signed_name} ${timeOf(p.signed_at)}`)
            : [
                el("label", {}, el("span", {}, tw("acc.sign.name")), kept(flow.signatures, p.seq, "input", { maxlength: 60, autocomplete: "off" })),
                el(
                  "div",
                  { class: "pair" },
                  bigButton(tw("acc.sign"), () => signs(p.seq, false), { class: "big sign" }),
                  bigButton(tw("acc.refuse"), () => signs(p.seq, true), { class: "big secondary refuse" }),
                ),
              ],
        );
      }),
    ),
    bigButton(tw("acc.settle"), settle, { id: "acc-settle" }),
  ];
}

async function signs(seq, refused) {
  const body = refused ? { seq, refused: true } : { seq, name: (flow.signatures[seq] ?? "").trim(), refused: false };
  if (await change("POST", "signatures", body)) render();
}

async function settle() {
  if (await change("POST", "settle", { version: flow.accident.version })) render();
}

// -- general: the scene and its hand-over ----------------------------------------------------------

export function sceneStep() {
  const a = flow.accident;
  const done = new Map(a.steps.map((s) => [s.step, s]));
  return [
    el("p", { class: "hint" }, tw("acc.scene.hint")),
    el(
      "ul",
      { class: "scene" },
      SCENE.map((step) => {
        const s = done.get(step);
        return el(
          "li",
          { dataset: { step, done: String(Boolean(s)) }, class: s ? "done" : "" },
          el(
            "button",
            { type: "button", class: "big", disabled: Boolean(s), onclick: () => protect(step) },
            el("span", { class: "tick" }, s ? "✓" : "○"),
            el("span", {}, tw(`acc.scene.${step}`)),
            s ? el("time", { datetime: s.done_at }, timeOf(s.done_at)) : a.missing_steps.includes(step) && el("small", { class: "required" }, tw("acc.scene.required")),
          ),
        );
      }),
    ),
    bigButton(tw("acc.next"), next, { id: "acc-to-handover" }),
  ];
}

async function protect(step) {
  if (await change("POST", "steps", { step })) render();
}

export function handOverStep() {
  const holder = { to: flow.handOverTo ?? tw("acc.handover.default") };
  const input = kept(holder, "to", "input", { maxlength: 100 });
  input.addEventListener("input", () => (flow.handOverTo = input.value));
  return [
    el("label", {}, el("span", {}, tw("acc.handover.to")), input),
    bigButton(tw("acc.handover"), async () => {
      if (await change("POST", "hand-over", { version: flow.accident.version, to: input.value.trim() })) render();
    }, { id: "acc-hand-over" }),
  ];
}
