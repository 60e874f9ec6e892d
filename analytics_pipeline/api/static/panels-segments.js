// Customer segments: size, revenue share and average CLV of each named segment and
// cluster, and the latest month's biggest moves between segments.

import { barList } from "./charts.js";
import { el, table } from "./dom.js";
import { integer, money, percent, shortDate } from "./format.js";

const MOVES_SHOWN = 5;

/** GET /api/segments/list and /api/segments/performance, as [list, performance]. */
export function renderSegments(body, [list, performance]) {
  const { currency } = list;
  const names = new Map([...list.segments, ...list.clusters].map((s) => [s.id, s.name]));
  const name = (id) => names.get(id) ?? id;
  const row = (s, note) => [
    el("span", { class: "name", "data-segment": s.id }, s.name,
      note ? el("small", { class: "segment-note" }, note) : ""),
    integer(s.customers), percent(s.revenue_share_pct), money(s.average_clv, currency)];
  const rows = [
    ...list.segments.filter((s) => s.kind === "segment").map((s) => row(s)),
    ...list.clusters.map((s) => row(s, s.description)),
  ];
  const latest = performance.migration.reduce(
    (last, move) => (move.month_end > last ? move.month_end : last), "");
  const moves = performance.migration
    .filter((move) => move.month_end === latest && move.from_segment !== move.to_segment
      && move.customers > 0)
    .sort((a, b) => b.customers - a.customers).slice(0, MOVES_SHOWN);
  body.replaceChildren(
    el("p", { class: "hint" }, `${integer(list.customers)} customers with a purchase`),
    table("Customers, revenue share and average CLV per segment and cluster", [
      { title: "Segment", header: true }, { title: "Customers", numeric: true },
      { title: "Rev. share", numeric: true }, { title: "Avg CLV", numeric: true },
    ], rows),
    el("h3", {}, `Moves between segments${latest ? `, month to ${shortDate(latest)}` : ""}`),
    moves.length ? barList(moves.map((move) => ({
      label: `${name(move.from_segment)} → ${name(move.to_segment)}`,
      value: move.customers, text: integer(move.customers),
    })), "Customers who changed segment in the latest month, most first")
      : el("p", { class: "empty" }, "No customer changed segment in the latest month."),
  );
}
