// The command center's view of the kiosks' counters: each kiosk marker's tooltip and popup
// carry whether it is staffed and how many citizens wait, read from GET /api/kiosks/status
// every 20 s; a kiosk with nobody at its counter is drawn dimmed.

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
      const line = `${row.name} · ${t(row.staffed ? "counter.staffed" : "counter.unstaffed")} · ${t("kiosk.waiting")} ${row.waiting}`;
      marker.bindTooltip(line);
      marker.bindPopup(() => popup(row));
      const icon = marker.getElement();
      if (icon) {
        icon.dataset.waiting = String(row.waiting);
        icon.dataset.staffed = row.staffed ? "1" : "0";
        icon.style.opacity = row.staffed ? "" : "0.55"; // CSSOM, which the page's policy allows
      }
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

function popup(row) {
  const fact = (key, value) => [el("dt", {}, t(key)), el("dd", { dataset: { key } }, String(value))];
  return el(
    "div",
    { class: "kiosk-status" },
    el("strong", {}, row.name),
    el(
      "dl",
      {},
      fact("kiosk.status.staffed", row.staffed ? `${t("counter.staffed")} (${row.clerks})` : t("counter.unstaffed")),
      fact("kiosk.waiting", row.waiting),
      fact("kiosk.status.serving", row.serving),
      fact("kiosk.status.booked", row.booked_today),
      fact("kiosk.status.served", row.served_today),
    ),
  );
}
