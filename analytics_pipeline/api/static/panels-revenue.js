// Revenue panels: today's tiles, the trend chart, top products, customer lifetime value.
// Each render function takes the panel's body element and the endpoint's JSON.

import { barList, lineChart, PALETTE } from "./charts.js";
import { el, setText, table } from "./dom.js";
import {
  daySeconds, integer, money, moneyShort, percent, shortDate, toNumber,
} from "./format.js";

/** GET /api/revenue/current (and every live message): the four tiles. */
export function renderKpis(data) {
  const { currency, today, target, same_weekday_last_week: lastWeek } = data;
  setText("kpi-date", shortDate(today.date));
  setText("kpi-revenue", money(today.revenue, currency));
  const progress = document.getElementById("kpi-progress");
  const reached = toNumber(target.progress_pct);
  progress.hidden = reached === null;
  progress.value = Math.min(reached ?? 0, 100);
  // Without a target the API says why (e.g. no sales a year earlier to grow from).
  setText("kpi-target", reached === null ? target.source
    : `${percent(reached)} of ${money(target.revenue, currency)} target`);
  setText("kpi-change", lastWeek.change_pct === null ? "" :
    `${percent(lastWeek.change_pct, true)} vs same time last week`);
  setText("kpi-orders", integer(today.orders));
  setText("kpi-units", `${integer(today.units)} units`);
  setText("kpi-aov", money(today.average_order_value, currency));
  setText("kpi-live", data.live.orders ? `incl. ${integer(data.live.orders)} live orders` : "");
  setText("kpi-margin", percent(today.gross_margin_pct));
  setText("kpi-margin-amount", today.gross_margin === null ? "cost unknown"
    : `${money(today.gross_margin, currency)} gross margin`);
}

/** GET /api/revenue/trends: totals vs the previous period and a daily line chart. */
export function renderTrend(body, data) {
  const { currency, totals, days } = data;
  const stats = el("dl", { class: "stats" },
    stat("Revenue", money(totals.revenue, currency),
      `${percent(data.revenue_change_pct, true)} vs previous ${days.length} days`),
    stat("Orders", integer(totals.orders)),
    stat("Average order", money(totals.average_order_value, currency)),
    stat("Gross margin", percent(totals.gross_margin_pct)));
  const chart = el("div", { class: "chart" });
  body.replaceChildren(stats, chart);
  const hasTarget = days.some((day) => toNumber(day.target_revenue) !== null);
  const series = [{ label: "Revenue", stroke: PALETTE[0], width: 2, fill: "#2563eb14",
    value: (_u, v) => money(v, currency) }];
  const values = [days.map((day) => daySeconds(day.date)), days.map((d) => toNumber(d.revenue))];
  if (hasTarget) {
    series.push({ label: "Target", stroke: "#6b7280", dash: [6, 4], width: 1.5,
      value: (_u, v) => money(v, currency) });
    values.push(days.map((day) => toNumber(day.target_revenue)));
  }
  return lineChart(chart, {
    data: values, series, yFormat: (v) => moneyShort(v, currency),
    label: `Daily revenue over the last ${days.length} days, ${money(totals.revenue, currency)}`
      + " in total",
  });
}

/** GET /api/revenue/products/top?by=margin: a ranked table. */
export function renderTopProducts(body, data) {
  const { currency, products } = data;
  if (!products.length) {
    body.replaceChildren(el("p", { class: "empty" }, "No sales in this period."));
    return;
  }
  body.replaceChildren(table(`Top ${products.length} products by gross margin`, [
    { title: "#", numeric: true },
    { title: "Product", header: true },
    { title: "Gross margin", numeric: true },
    { title: "Margin", numeric: true },
    { title: "Revenue", numeric: true, narrow: true },
  ], products.map((product) => [
    String(product.rank),
    nameWithNote(product.name ?? product.product_id, product.category),
    money(product.gross_margin, currency),
    percent(product.margin_pct),
    money(product.revenue, currency),
  ])));
}

/** GET /api/revenue/customers/ltv: the value distribution and the cohort curves. */
export function renderLtv(body, data) {
  const { currency } = data;
  const stats = el("dl", { class: "stats" },
    stat("Customers", integer(data.customers)),
    stat("Average value", money(data.average_ltv, currency)),
    stat("Median value", money(data.median_ltv, currency)));
  const bars = barList(data.distribution.map((bucket) => ({
    label: bucketLabel(bucket, currency),
    value: toNumber(bucket.customers) ?? 0,
    text: integer(bucket.customers),
    note: `${percent(bucket.revenue_share_pct)} of revenue`,
  })), "Customers by lifetime value");
  const chart = el("div", { class: "chart" });
  body.replaceChildren(stats, el("h3", {}, "Customers by value"), bars,
    el("h3", {}, "Revenue per customer by cohort"), chart);
  return cohortChart(chart, data.cohorts, currency);
}

const COHORTS_SHOWN = 6;

function cohortChart(container, cohorts, currency) {
  const months = [...new Set(cohorts.map((row) => row.cohort_month))].sort().slice(-COHORTS_SHOWN);
  if (!months.length) {
    container.replaceChildren(el("p", { class: "empty" }, "No cohorts yet."));
    return undefined;
  }
  const shown = cohorts.filter((row) => months.includes(row.cohort_month));
  const longest = Math.max(...shown.map((row) => row.months_since_first));
  const x = Array.from({ length: longest + 1 }, (_, i) => i);
  const lines = months.map((month) => x.map((offset) => {
    const row = shown.find((r) => r.cohort_month === month && r.months_since_first === offset);
    return row ? toNumber(row.cumulative_revenue_per_customer) : null;
  }));
  return lineChart(container, {
    data: [x, ...lines],
    xTime: false,
    xValue: (_u, v) => (v === null ? "–" : `month ${v}`),
    xFormat: (v) => (Number.isInteger(v) ? `+${v}` : ""),
    yFormat: (v) => moneyShort(v, currency),
    series: months.map((month, i) => ({
      label: month.slice(0, 7), stroke: PALETTE[i % PALETTE.length], width: 2,
      value: (_u, v) => money(v, currency),
    })),
    label: `Cumulative revenue per customer for the ${months.length} newest cohorts, by months`
      + " since their first purchase",
  });
}

function bucketLabel(bucket, currency) {
  const lower = toNumber(bucket.lower);
  const upper = toNumber(bucket.upper);
  if (lower === null && upper !== null) return `below ${moneyShort(upper, currency)}`;
  if (upper === null && lower !== null) return `${moneyShort(lower, currency)} and more`;
  if (lower === null) return bucket.label;
  return `${moneyShort(lower, currency)}–${moneyShort(upper, currency)}`;
}

export function stat(term, value, note) {
  return el("div", { class: "stat" }, el("dt", {}, term), el("dd", {},
    el("span", { class: "stat-value" }, value), note ? el("small", {}, note) : null));
}

export function nameWithNote(name, note) {
  return el("span", { class: "name" }, name, note ? el("small", {}, note) : null);
}
