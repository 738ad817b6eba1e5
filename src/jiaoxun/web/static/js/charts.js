// The statistics page's charts, drawn with Chart.js (its UMD build, loaded by the page before the
// modules, sets window.Chart): bars of this period beside last year's, the trend's two lines,
// histograms with the tier's bound as a dashed vertical line. Each canvas holds one chart,
// replaced whole when the page redraws; before printing every chart is redrawn at once, at the
// size the print style gives it, with no animation (a printout catches no animation frame).

const Chart = window.Chart;
const charts = new Map(); // canvas id: its chart
const THIS = "#0d47a1";
const LAST = "#9e9e9e";
const BOUND = "#c62828";
const printing = window.matchMedia("print");

Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.animation = printing.matches ? false : { duration: 250 };

/** Replace the chart of canvas `id` by a new one of `config`. */
function draw(id, config) {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  const chart = new Chart(canvas, config);
  charts.set(id, chart);
  canvas.dataset.datasets = String(config.data.datasets.length); // what the tests read
  return chart;
}

/** Drop the charts whose canvases are gone (a list of them redrawn). */
export function forget(ids) {
  for (const id of ids) {
    charts.get(id)?.destroy();
    charts.delete(id);
  }
}

/** This period's bars beside last year's. */
export function comparedBars(id, { labels, values, lastYear, names, horizontal = false }) {
  return draw(id, {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: names[0], data: values, backgroundColor: THIS },
        { label: names[1], data: lastYear, backgroundColor: LAST },
      ],
    },
    options: { indexAxis: horizontal ? "y" : "x", scales: { x: { beginAtZero: true }, y: { beginAtZero: true } } },
  });
}

/** One series of bars; `tooltip(i)` adds a line under each bar's value (its share, say). */
export function bars(id, { labels, values, name, tooltip = () => "" }) {
  return draw(id, {
    type: "bar",
    data: { labels, datasets: [{ label: name, data: values, backgroundColor: THIS }] },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => tooltip(item.dataIndex) } } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

/** This period's line and last year's beside it (dashed). */
export function trendLines(id, { labels, values, lastYear, names }) {
  return draw(id, {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: names[0], data: values, borderColor: THIS, backgroundColor: THIS, tension: 0.2, pointRadius: 2 },
        { label: names[1], data: lastYear, borderColor: LAST, backgroundColor: LAST, borderDash: [6, 4], tension: 0.2, pointRadius: 2 },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { usePointStyle: true, pointStyle: "line" } } }, // the dash shows
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

/** A histogram of bins (from_s, to_s, count) with a vertical line at `boundS`, placed inside
 * the bin that holds it in proportion (the bins are categories, not a time axis). */
export function histogram(id, { bins, boundS, labels, name, boundName }) {
  const boundLine = {
    id: "bound",
    afterDatasetsDraw(chart) {
      const at = bins.findIndex((b) => boundS >= b.from_s && boundS < b.to_s);
      if (at < 0) return;
      const x = chart.scales.x;
      const width = bins.length > 1 ? x.getPixelForValue(1) - x.getPixelForValue(0) : x.width;
      const bin = bins[at];
      const px = x.getPixelForValue(at) - width / 2 + (width * (boundS - bin.from_s)) / (bin.to_s - bin.from_s);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = BOUND;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.fillStyle = BOUND;
      ctx.fillText(boundName, px + 4, top + 10);
      ctx.restore();
    },
  };
  const chart = draw(id, {
    type: "bar",
    data: { labels, datasets: [{ label: name, data: bins.map((b) => b.count), backgroundColor: THIS, categoryPercentage: 1, barPercentage: 0.95 }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    plugins: [boundLine],
  });
  chart.canvas.dataset.bound = String(boundS);
  return chart;
}

/** Every chart redrawn at its printed size, with no animation. */
function forPrint() {
  for (const chart of charts.values()) {
    chart.options.animation = false;
    chart.resize();
    chart.update("none");
  }
}

function forScreen() {
  for (const chart of charts.values()) {
    chart.options.animation = { duration: 250 };
    chart.resize();
  }
}

window.addEventListener("beforeprint", forPrint);
window.addEventListener("afterprint", forScreen);
printing.addEventListener("change", (event) => {
  Chart.defaults.animation = event.matches ? false : { duration: 250 };
  (event.matches ? forPrint : forScreen)();
});
