// The sections of the statistics report, drawn from one SummaryOut (GET /api/analytics/summary):
// the figure cards, categories, the 1-3-5 tiers, the response-time chain, the buckets, the
// trend, the distributions per tier, the rankings and the defined rates. Nothing here fetches:
// the page redraws every section from the summary it holds, in the language of the moment.

import { $, el, fill } from "./dom.js";
import { clock, lang, t } from "./i18n.js";
import { bars, comparedBars, forget, histogram, trendLines } from "./charts.js";

const MEASURES = ["acknowledgement", "departure", "feedback"];
const STEPS = ["call_to_dispatch", "dispatch_to_ack", "ack_to_departure", "travel", "on_scene", "call_to_arrival"];

/** Draw every section of `summary`. */
export function renderReport(summary) {
  renderHeading(summary);
  fill($("#figures"), summary.figures.map(figureCard));
  renderCategories(summary);
  renderTiers(summary.tiers);
  renderChain(summary.chain);
  renderBuckets(summary.buckets);
  renderTrend(summary.trend);
  renderDistributions(summary.distributions);
  renderUnits(summary.units);
  renderZones(summary.zones);
  fill($("#rates"), summary.rates.map(rateCard));
}

// -- formatting ---------------------------------------------------------------------------------

const locale = () => (lang() === "zh" ? "zh-CN" : "en-GB");

/** The label of a row that carries label_zh and label_en. */
const label = (row) => (lang() === "zh" ? row.label_zh : row.label_en);

function count(value) {
  return value == null ? "–" : Number(value).toLocaleString(locale(), { maximumFractionDigits: 1 });
}

/** A share (0..1) as a percentage. */
export function share(value) {
  return value == null ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** A figure's value in its unit: a count, yuan, or a rate (a share). */
function amount(value, unit) {
  if (unit === "yuan") return `¥${Number(value).toLocaleString(locale(), { maximumFractionDigits: 0 })}`;
  if (unit === "rate") return share(value);
  return count(value);
}

/** A change in per cent, signed, with its direction as a class: up red, down green (more
 * incidents is the bad news a commander reads first). */
function change(pct, kind) {
  if (pct == null) return el("span", { class: `change ${kind} flat` }, "–");
  const direction = pct > 0 ? "up" : pct < 0 ? "down" : "flat";
  const arrow = pct > 0 ? "▲" : pct < 0 ? "▼" : "";
  return el("span", { class: `change ${kind} ${direction}` }, `${arrow}${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`);
}

/** The Poisson test's verdict: "significant (p=0.003)" / "within chance (p=0.41)". */
function verdict(test, kind) {
  if (!test) return null;
  const text = lang() === "zh" ? test.text_zh : test.text_en;
  return el("span", { class: `verdict ${kind} ${test.significant ? "significant" : "chance"}`, dataset: { p: test.p } }, text);
}

function text(key) {
  return el("span", { dataset: { i18n: key } }, t(key));
}

// -- a table of rows -----------------------------------------------------------------------------

/** A table: `columns` are [i18n key, cell(row) → text or node, numeric?]. */
function table(columns, rows, { rowData = () => ({}), empty = "stats.none" } = {}) {
  if (!rows.length) return el("p", { class: "hint" }, t(empty));
  return el(
    "table",
    { class: "grid report" },
    el("thead", {}, el("tr", {}, ...columns.map(([key, , numeric]) => el("th", { class: numeric ? "num" : null }, t(key))))),
    el("tbody", {}, ...rows.map((row) => el("tr", { dataset: rowData(row) }, ...columns.map(([, cell, numeric]) => el("td", { class: numeric ? "num" : null }, cell(row)))))),
  );
}

// -- sections ------------------------------------------------------------------------------------

function renderHeading({ period, last_year: lastYear, previous, scope, origins, computed_ms: ms }) {
  // a label that is its dates already ("2026-10-02 – 2026-10-31") is not followed by them again
  const span = (p) => {
    const dates = `${p.start} – ${p.end}`;
    return p.label === dates ? `${dates} (${p.days} ${t("stats.days")})` : `${p.label} (${dates}, ${p.days} ${t("stats.days")})`;
  };
  const kinds = Object.entries(origins).filter(([, n]) => n > 0);
  fill(
    $("#heading"),
    el("h1", { id: "period-label" }, `${scope.kind === "city" ? t("stats.scope.city") : scope.name} · ${span(period)}`),
    el(
      "p",
      { class: "compare" },
      text("stats.lastyear"),
      `: ${span(lastYear)}`,
      lastYear.aligned_on ? el("span", { class: "aligned" }, ` · ${t("stats.alignedon")} ${lastYear.aligned_on}`) : null,
      " · ",
      text("stats.previous"),
      `: ${span(previous)}`,
    ),
    [period, lastYear, previous].filter((p) => p.note).map((p) => el("p", { class: "warning" }, p.note)),
    el(
      "p",
      { class: "hint origins" },
      text("stats.origins"),
      ": ",
      kinds.length ? kinds.map(([k, n]) => `${t(`stats.origin.${k}`)} ${count(n)}`).join(" · ") : t("stats.none"),
      ` · ${t("stats.computed")} ${Math.round(ms)} ms`,
    ),
  );
}

/** A figure's card: its value with the year-over-year test's verdict beside it, last year's
 * and the previous period's with their changes; greyed with a note when not recorded yet. */
function figureCard(f) {
  const line = (key, value, pct, test, kind) =>
    el("div", { class: "against" }, text(key), " ", el("b", { class: kind === "yoy" ? "last-year" : "previous" }, amount(value, f.unit)), " ", change(pct, kind), " ", verdict(test, kind));
  return el(
    "div",
    { class: `card figure${f.available ? "" : " unavailable"}`, dataset: { key: f.key } },
    el("h3", {}, label(f)),
    el("div", { class: "value" }, f.available ? amount(f.value, f.unit) : "–"),
    f.available
      ? [line("stats.lastyear", f.last_year, f.yoy_pct, f.yoy_test, "yoy"), line("stats.previous", f.previous, f.pop_pct, f.pop_test, "pop")]
      : el("p", { class: "note" }, t("stats.unavailable")),
  );
}

function renderCategories({ categories, zero_categories: zero }) {
  const top = categories.slice(0, 15);
  comparedBars("chart-categories", {
    labels: top.map(label),
    values: top.map((c) => c.value),
    lastYear: top.map((c) => c.last_year),
    names: [t("stats.thisperiod"), t("stats.lastyear")],
    horizontal: true,
  });
  fill(
    $("#categories"),
    table(
      [
        ["stats.col.code", (c) => c.code],
        ["stats.col.category", label],
        ["stats.thisperiod", (c) => count(c.value), true],
        ["stats.lastyear", (c) => count(c.last_year), true],
        ["stats.col.yoy", (c) => [change(c.yoy_pct, "yoy"), " ", verdict(c.yoy_test, "yoy")], true],
        ["stats.previous", (c) => count(c.previous), true],
        ["stats.col.pop", (c) => change(c.pop_pct, "pop"), true],
      ],
      categories,
      { rowData: (c) => ({ code: c.code }) },
    ),
  );
  fill(
    $("#zero-categories"),
    zero.length
      ? zero.map((c) => el("span", { class: "chip zero", dataset: { code: c.code } }, `${label(c)} 0`, el("small", {}, ` (${t("stats.lastyear")} ${count(c.last_year)})`)))
      : el("p", { class: "hint" }, t("stats.nozero")),
  );
}

function renderTiers(tiers) {
  fill(
    $("#tiers"),
    table(
      [
        ["stats.col.tier", (r) => r.tier],
        ["stats.col.bound", (r) => `${r.bound_min} ${t("stats.min")}`, true],
        ["stats.col.judged", (r) => count(r.judged), true],
        ["stats.col.met", (r) => count(r.met), true],
        ["stats.col.rate", (r) => share(r.rate), true],
        ["stats.col.metcall", (r) => count(r.met_from_call), true],
        ["stats.col.ratecall", (r) => share(r.rate_from_call), true],
        ["stats.col.lastrate", (r) => share(r.last_year_rate), true],
      ],
      tiers,
      { rowData: (r) => ({ tier: r.tier }) },
    ),
  );
}

/** The chain per priority: one row a priority, one column a step, p50 / p90 in m:ss. */
function renderChain(chain) {
  const priorities = [...new Set(chain.map((c) => c.priority))].sort((a, b) => a - b);
  const steps = STEPS.filter((s) => chain.some((c) => c.step === s));
  const cell = (priority, step) => {
    const c = chain.find((x) => x.priority === priority && x.step === step);
    if (!c) return "–";
    return [el("span", { class: "p50" }, clock(c.p50_s)), " / ", el("span", { class: "p90" }, clock(c.p90_s)), el("small", { class: "n" }, ` n=${c.n}`)];
  };
  const columns = [["stats.col.priority", (p) => `P${p}`], ...steps.map((s) => [`stats.step.${s}`, (p) => cell(p, s), true])];
  fill($("#chain"), table(columns, priorities, { rowData: (p) => ({ priority: p }) }));
}

function renderBuckets(buckets) {
  for (const measure of MEASURES) {
    const rows = buckets.filter((b) => b.measure === measure);
    bars(`chart-${measure}`, {
      labels: rows.map((b) => b.bucket),
      values: rows.map((b) => b.count),
      name: t(`stats.measure.${measure}`),
      tooltip: (i) => `${t("stats.share")} ${share(rows[i].share)}`,
    });
  }
}

function renderTrend(trend) {
  trendLines("chart-trend", {
    labels: trend.points.map((p) => p.label),
    values: trend.points.map((p) => p.this),
    lastYear: trend.points.map((p) => p.last_year),
    names: [t("stats.thisperiod"), t("stats.lastyear")],
  });
}

/** One histogram per tier; the canvases are made anew, as the tiers may differ per summary. */
function renderDistributions(distributions) {
  const holder = $("#distributions");
  forget([...holder.querySelectorAll("canvas")].map((c) => c.id));
  fill(
    holder,
    distributions.map((d, i) =>
      el(
        "div",
        { class: "distribution", dataset: { tier: d.tier } },
        el("h3", {}, `${d.tier} · ${t("stats.col.bound")} ${d.bound_min} ${t("stats.min")} · ${t("stats.col.met")} ${d.met}/${d.judged}`),
        el("div", { class: "chart" }, el("canvas", { id: `chart-distribution-${i}` })),
      ),
    ),
  );
  distributions.forEach((d, i) =>
    histogram(`chart-distribution-${i}`, {
      bins: d.bins,
      boundS: d.bound_min * 60,
      labels: d.bins.map((b) => `${clock(b.from_s)}–${clock(b.to_s)}`),
      name: t("stats.responses"),
      boundName: `${d.bound_min} ${t("stats.min")}`,
    }),
  );
}

function renderUnits(units) {
  fill(
    $("#units"),
    table(
      [
        ["stats.col.rank", (u) => u.rank, true],
        ["stats.col.unit", (u) => u.unit],
        ["stats.col.zone", (u) => u.zone ?? "–"],
        ["stats.col.orders", (u) => count(u.orders), true],
        ["stats.col.arrived", (u) => count(u.arrived), true],
        ["stats.col.median", (u) => clock(u.median_response_s), true],
        ["stats.col.metrate", (u) => share(u.met_rate), true],
        ["stats.col.activities", (u) => count(u.activities), true],
      ],
      units,
      { rowData: (u) => ({ unit: u.unit }) },
    ),
  );
}

function renderZones(zones) {
  fill(
    $("#zones"),
    table(
      [
        ["stats.col.rank", (z) => z.rank, true],
        ["stats.col.zone", (z) => z.zone],
        ["stats.col.name", (z) => z.name],
        ["stats.thisperiod", (z) => count(z.incidents), true],
        ["stats.lastyear", (z) => count(z.last_year), true],
        ["stats.col.yoy", (z) => change(z.yoy_pct, "yoy"), true],
        ["stats.col.median", (z) => clock(z.median_response_s), true],
        ["stats.col.metrate", (z) => share(z.met_rate), true],
      ],
      zones,
      { rowData: (z) => ({ zone: z.zone }) },
    ),
  );
}

/** A defined rate with its definition beside it: what is counted over what. */
function rateCard(r) {
  const unit = lang() === "zh" ? r.unit_zh : r.unit_en;
  const number = (v) => Number(v).toLocaleString(locale(), { maximumFractionDigits: 2 });
  const value = (v) => (v == null ? "–" : `${number(v)}${unit === "%" ? "" : " "}${unit}`);
  return el(
    "div",
    { class: "card rate", dataset: { key: r.key } },
    el("h3", {}, label(r)),
    el("div", { class: "value" }, value(r.value)),
    el("div", { class: "against" }, text("stats.lastyear"), " ", el("b", {}, value(r.last_year)), " · ", text("stats.previous"), " ", el("b", {}, value(r.previous))),
    el("p", { class: "definition" }, el("b", {}, t("stats.definition")), " ", lang() === "zh" ? r.definition_zh : r.definition_en),
  );
}
