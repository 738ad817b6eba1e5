// The command center's view of the kiosks' counters: each kiosk marker's tooltip and popup
// carry whether it is staffed, who is at the counter, where its cars are and how many citizens
// wait or are booked with no one to serve them, read from GET /api/kiosks/status every 20 s; a
// kiosk with nobody on hand (no clerk, no officer at the counter, no crewed car standing by) is
// drawn dimmed with a red ring and the label 无人.

import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

const EVERY_MS = 20000;

/** Keep the kiosk markers of `kiosksLayer` (the city map's GeoJSON layer) up to date. */
export function watchKiosks(kiosksLayer) {
  const markers = new Map();
  kiosksLayer.eachLayer((marker) => markers.set(marker.feature.properties.id, marker));
  let status = [];
  const draw = () => {
    for (const row of status) {
      const marker = markers.get(row.kiosk_id);
      if (!marker) continue;
      const flagged = row.flagged ? ` · ${t("kiosk.status.flagged")} ${row.flagged}` : "";
      const line = `${row.name} · ${t(row.staffed ? "counter.staffed" : "counter.unstaffed")} · ${t("kiosk.waiting")} ${row.waiting}${flagged}`;
      marker.bindTooltip(line);
      marker.bindPopup(() => popup(row));
      const icon = marker.getElement();
      if (icon) mark(icon, row);
    }
  };
  const read = async () => {
    try {
      status = await api("GET", "/api/kiosks/status");
    } catch {
      return; // the next round tries again; the markers keep their last state
    }
    draw();
    window.jx.kioskStatus = status;
  };
  window.addEventListener("jx:language", draw);
  read();
  setInterval(read, EVERY_MS);
}

/** Dimmed with a red ring and the label 无人 while no one is on hand (CSSOM styles, which the
 * page's policy allows where a style attribute is refused). */
function mark(icon, row) {
  icon.dataset.waiting = String(row.waiting);
  icon.dataset.staffed = row.staffed ? "1" : "0";
  icon.dataset.flagged = String(row.flagged ?? 0);
  icon.style.opacity = row.staffed ? "" : "0.55";
  icon.style.boxShadow = row.staffed ? "" : "0 0 0 3px #c62828";
  let label = icon.querySelector(".jx-empty");
  if (!label && !row.staffed) {
    label = el("span", { class: "jx-empty" });
    Object.assign(label.style, { position: "absolute", top: "20px", left: "50%", transform: "translateX(-50%)", background: "#c62828", color: "#fff", fontSize: "10px", lineHeight: "14px", padding: "0 3px", borderRadius: "2px", whiteSpace: "nowrap" });
    icon.append(label);
  }
  if (label) {
    label.hidden = row.staffed;
    label.textContent = t("kiosk.status.empty");
  }
}

function popup(row) {
  const hand = row.on_hand;
  const fact = (key, value) => [el("dt", {}, t(key)), el("dd", { dataset: { key } }, String(value))];
  return el(
    "div",
    { class: "kiosk-status" },
    el("strong", {}, row.name),
    el(
      "dl",
      {},
      fact("kiosk.status.staffed", t(row.staffed ? "counter.staffed" : "counter.unstaffed")),
      fact("kiosk.status.counter", `${t("counter.clerks")} ${hand.clerks} · ${t("counter.officers")} ${hand.counter_officers}`),
      fact("kiosk.status.cars", `${t("kiosk.status.free")} ${hand.free} · ${t("kiosk.status.out")} ${hand.out} · ${t("kiosk.status.standing")} ${hand.standing_by} · ${t("kiosk.status.crewed")} ${hand.crewed}/${hand.cars}`),
      fact("kiosk.status.flagged", row.flagged),
      fact("kiosk.waiting", row.waiting),
      fact("kiosk.status.serving", row.serving),
      fact("kiosk.status.booked", row.booked_today),
      fact("kiosk.status.served", row.served_today),
    ),
  );
}
