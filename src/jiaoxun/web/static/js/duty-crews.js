// The duty page's view of the force now: every car with its crew (GET /api/duty/crews; a car with
// no one on it in red) and the officers on duty whose device is missing, silent or away from
// their post (GET /api/duty/attendance). The page reads them again every 30 s.

import { api } from "./api.js";
import { $, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { localTime, postOf } from "./duty-calendar.js";

// -- crews and attendance now ------------------------------------------------------------------

export async function loadCrews(page) {
  const [crews, flags] = await Promise.all([api("GET", "/api/duty/crews"), api("GET", "/api/duty/attendance").catch(() => null)]);
  page.duty.crews = crews;
  page.duty.flags = flags;
  renderCrews(page);
}

function person(o) {
  return el("span", { class: "person" }, `${o.badge} ${o.name}`, o.licence && el("span", { class: "skill driver" }, t("duty.skill.driver")), o.accident && el("span", { class: "skill accident" }, t("duty.skill.accident")));
}

export function renderCrews(page) {
  const crews = [...page.duty.crews].sort((a, b) => (a.kiosk_id ?? 0) - (b.kiosk_id ?? 0) || a.call_sign.localeCompare(b.call_sign));
  fill(
    $("#crews"),
    el("thead", {}, el("tr", {}, ["duty.col.unit", "duty.kiosk", "duty.col.status", "duty.col.crew"].map((k) => el("th", {}, t(k))))),
    el(
      "tbody",
      {},
      crews.map((c) =>
        el(
          "tr",
          { class: c.crew.length ? "" : "uncrewed", dataset: { unit: c.unit_id, crew: c.crew.length } },
          el("td", {}, c.call_sign),
          el("td", {}, c.kiosk_id ? page.kioskName(c.kiosk_id) : ""),
          el("td", { class: `status ${c.status}` }, t(`unit.${c.status}`)),
          el("td", {}, c.crew.length ? c.crew.map(person) : el("span", { class: "none" }, t("duty.uncrewed"))),
        ),
      ),
    ),
  );
  const flags = page.duty.flags ?? [];
  const sign = (id) => page.duty.crews.find((c) => c.unit_id === id)?.call_sign ?? "";
  fill(
    $("#attendance"),
    el("thead", {}, el("tr", {}, ["duty.officer", "duty.shift", "duty.col.post", "duty.col.flag", "duty.col.detail"].map((k) => el("th", {}, t(k))))),
    el(
      "tbody",
      {},
      flags.length === 0 && el("tr", {}, el("td", { colspan: 5, class: "hint" }, t(page.duty.flags ? "duty.noflags" : "duty.noattendance"))),
      flags.map((f) =>
        el(
          "tr",
          { class: `flag ${f.flag}`, dataset: { officer: f.officer_id, flag: f.flag } },
          el("td", {}, `${f.badge} ${f.name}`),
          el("td", {}, f.shift),
          el("td", {}, postOf({ post: f.post, call_sign: sign(f.unit_id) })),
          el("td", {}, t(`duty.flag.${f.flag}`)),
          el("td", { class: "detail" }, f.detail),
        ),
      ),
    ),
  );
  $("#attendance-note").textContent = `${t("duty.refreshed")} ${localTime(new Date().toISOString())}`;
}
