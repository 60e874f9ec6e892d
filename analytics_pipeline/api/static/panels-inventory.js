// Inventory panels: turnover by category and the reorder list.

import { barList } from "./charts.js";
import { el, table } from "./dom.js";
import { decimal, integer, money, shortDate, toNumber } from "./format.js";
import { nameWithNote } from "./panels-revenue.js";

// A phone screen shows this many reorder lines; the rest are counted, not listed.
const REORDER_SHOWN = 20;

/** GET /api/inventory/turnover: categories, fastest-turning first (as the API sorts). */
export function renderTurnover(body, data) {
  const { categories } = data;
  if (!categories.length) {
    body.replaceChildren(el("p", { class: "empty" }, "No stock or sales to measure."));
    return;
  }
  body.replaceChildren(
    el("p", { class: "hint" }, "Cost of goods sold over average stock value, per year."),
    barList(categories.map((row) => ({
      label: row.category,
      value: toNumber(row.turnover_per_year) ?? 0,
      text: row.turnover_per_year === null ? "–" : `${decimal(row.turnover_per_year)}×`,
      note: row.days_of_supply === null ? "" : `${integer(row.days_of_supply)} days of supply`,
    })), "Inventory turnover per year by category"),
  );
}

/** GET /api/inventory/reorder: what to order now, most urgent first (as the API sorts). */
export function renderReorder(body, data) {
  const { currency, items } = data;
  if (!items.length) {
    body.replaceChildren(el("p", { class: "empty" }, "Nothing needs reordering."));
    return;
  }
  const shown = items.slice(0, REORDER_SHOWN);
  const rows = shown.map((item) => [
    productCell(item),
    integer(item.on_hand),
    integer(item.on_order),
    item.days_of_supply === null ? "–" : decimal(item.days_of_supply),
    shortDate(item.expected_stockout_date),
    integer(item.suggested_quantity),
    money(item.revenue_at_risk, currency),
  ]);
  body.replaceChildren(
    el("p", { class: "hint" }, `${integer(items.length)} products to reorder`),
    table("Products to reorder now", [
      { title: "Product", header: true },
      { title: "On hand", numeric: true, narrow: true },
      { title: "On order", numeric: true, narrow: true },
      { title: "Days left", numeric: true },
      { title: "Runs out", numeric: true, narrow: true },
      { title: "Order", numeric: true },
      { title: "At risk", numeric: true },
    ], rows),
    items.length > shown.length
      ? el("p", { class: "hint" }, `and ${integer(items.length - shown.length)} more`) : "",
  );
}

function productCell(item) {
  // The name is a button: it shows the product's forecast (the dashboard listens).
  const cell = nameWithNote(el("button", {
    type: "button", class: "pick", "data-product": item.product_id,
    title: "Show this product's forecast",
  }, item.name ?? item.product_id), [item.category, item.supplier].filter(Boolean).join(" · "));
  // The rule's arithmetic is long: phones leave it out (the figures are in the row).
  cell.append(el("small", { class: "wide-only" }, item.reason));
  return cell;
}
