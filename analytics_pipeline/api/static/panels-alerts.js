// Alert panels: the alerts of the last batch run and one product's demand forecast.

import { lineChart, PALETTE } from "./charts.js";
import { el } from "./dom.js";
import { daySeconds, decimal, integer, money, shortDate } from "./format.js";

const SEVERITIES = ["critical", "warning", "info"];
const TYPE_NAMES = {
  low_stock: "Low stock", overstock: "Overstock", trending: "Trending",
  slow_mover: "Slow mover", seasonal: "Seasonal peak",
};

/**
 * GET /api/alerts: counts per severity, then each alert (critical first, as the API sorts)
 * as a button that shows its product's forecast (the dashboard listens for the clicks).
 */
export function renderAlerts(body, data) {
  const { counts, alerts, currency } = data;
  const total = SEVERITIES.reduce((sum, severity) => sum + (counts[severity] ?? 0), 0);
  if (!alerts.length) {
    body.replaceChildren(el("p", { class: "empty" }, "No alerts: stock and demand look normal."));
    return;
  }
  const hint = SEVERITIES.map((severity) => `${integer(counts[severity] ?? 0)} ${severity}`)
    .join(" · ");
  body.replaceChildren(
    el("p", { class: "hint alert-counts" }, hint),
    el("ul", { class: "alerts", "aria-label": "Inventory alerts, most severe first" },
      ...alerts.map((alert) => el("li", {}, alertButton(alert, currency)))),
    total > alerts.length
      ? el("p", { class: "hint" }, `and ${integer(total - alerts.length)} more`) : "",
  );
}

function alertButton(alert, currency) {
  const facts = [TYPE_NAMES[alert.alert_type] ?? alert.alert_type, alert.category,
    alert.suggested_quantity === null ? "" : `order ${integer(alert.suggested_quantity)}`,
    alert.expected_stockout_date ? `runs out ${shortDate(alert.expected_stockout_date)}` : "",
    alert.revenue_at_risk === null ? "" : `${money(alert.revenue_at_risk, currency)} at risk`,
  ].filter(Boolean).join(" · ");
  return el("button", {
    type: "button", class: "alert", "data-severity": alert.severity,
    "data-product": alert.product_id, title: "Show this product's forecast",
  },
  el("span", { class: "badge" }, alert.severity),
  el("span", { class: "alert-name" }, alert.product_name ?? alert.product_id),
  el("small", {}, facts),
  el("span", { class: "alert-reason" }, alert.reason));
}

/** GET /api/inventory/forecast/{id}: daily units sold, then the forecast and its bands. */
export function renderForecast(body, data) {
  if (!data) {
    body.replaceChildren(el("p", { class: "empty" }, "No alerts or reorders: nothing to forecast."));
    return undefined;
  }
  const { history, forecast } = data;
  const name = data.name ?? data.product_id;
  const outOfStock = history.filter((day) => day.out_of_stock);
  const note = outOfStock.length
    ? `${integer(outOfStock.length)} out-of-stock days (red dots): sales there undercount demand.`
    : `No out-of-stock days in the last ${integer(history.length)}.`;
  const chart = el("div", { class: "chart" });
  body.replaceChildren(
    el("p", { class: "forecast-title", "data-product": data.product_id }, el("strong", {}, name),
      el("small", {}, `Model: ${data.model ?? "unknown"} · ${forecast.length} days ahead`)),
    chart,
    el("p", { class: "hint" }, note),
  );
  const days = history.length;
  const pad = (values, before) => (before ? [...Array(days).fill(null), ...values]
    : [...values, ...Array(forecast.length).fill(null)]);
  const ahead = (key) => pad(forecast.map((day) => day[key]), true);
  const units = { value: (_u, v) => (v === null ? "–" : decimal(v)) };
  const bound = (label, stroke) => ({ ...units, label, stroke, width: 1 });
  return lineChart(chart, {
    data: [
      [...history, ...forecast].map((day) => daySeconds(day.date)),
      pad(history.map((day) => day.units)),
      ahead("mean"), ahead("hi80"), ahead("lo80"), ahead("hi95"), ahead("lo95"),
      pad(history.map((day) => (day.out_of_stock ? day.units : null))),
    ],
    series: [
      { ...units, label: "Sold", stroke: PALETTE[0], width: 2 },
      { ...units, label: "Forecast", stroke: PALETTE[1], width: 2, dash: [6, 4] },
      bound("80 % high", "#f59e0b66"), bound("80 % low", "#f59e0b66"),
      bound("95 % high", "#f59e0b33"), bound("95 % low", "#f59e0b33"),
      { ...units, label: "Out of stock", stroke: "#dc2626", width: 0, paths: () => null,
        points: { show: true, size: 7, fill: "#dc2626" } },
    ],
    bands: [{ series: [3, 4], fill: "#f59e0b33" }, { series: [5, 6], fill: "#f59e0b1a" }],
    yFormat: (v) => integer(v),
    label: `Daily units of ${name}: ${days} days sold and a ${forecast.length}-day forecast`
      + ` (${data.model ?? "model unknown"}) with 80 % and 95 % intervals`,
  });
}
