// Charts: uPlot (vendored, loaded as a classic script that defines window.uPlot) for lines,
// plain HTML for bars, so bar values stay readable by screen readers and in the DOM.

import { el } from "./dom.js";

export const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2"];
const HEIGHT = 220;

/**
 * A line chart that follows its container's width.
 * @param {HTMLElement} container  emptied and filled with the chart
 * @param {{data: number[][], series: object[], xTime?: boolean, yFormat?: Function,
 *          xFormat?: Function, bands?: object[], label: string}} spec
 * @returns {() => void} a function that removes the chart
 */
export function lineChart(container, spec) {
  container.replaceChildren();
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", spec.label);
  const axis = { stroke: "#4b5563", grid: { stroke: "#e5e7eb" }, ticks: { stroke: "#e5e7eb" } };
  const options = {
    width: Math.max(container.clientWidth, 200),
    height: HEIGHT,
    // Days are the store's calendar days, sent as UTC midnight: show them without a shift.
    tzDate: (seconds) => window.uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: { x: { time: spec.xTime !== false } },
    series: [spec.xValue ? { value: spec.xValue } : {}, ...spec.series],
    axes: [
      { ...axis, ...(spec.xFormat ? { values: (_u, ticks) => ticks.map(spec.xFormat) } : {}) },
      { ...axis, size: 64, values: (_u, ticks) => ticks.map(spec.yFormat ?? String) },
    ],
    ...(spec.bands ? { bands: spec.bands } : {}),
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new window.uPlot(options, spec.data, container);
  const observer = new ResizeObserver(() => {
    const width = container.clientWidth;
    if (width && width !== chart.width) chart.setSize({ width, height: HEIGHT });
  });
  observer.observe(container);
  return () => {
    observer.disconnect();
    chart.destroy();
  };
}

/**
 * Horizontal bars as a list: label, bar scaled to the largest value, formatted value.
 * @param {{label: string, value: number, text: string, note?: string}[]} rows
 */
export function barList(rows, ariaLabel) {
  const largest = Math.max(...rows.map((row) => Math.abs(row.value)), 0);
  const list = el("ul", { class: "bars", "aria-label": ariaLabel });
  for (const row of rows) {
    const fill = el("span", { class: "bar-fill" });
    fill.style.width = `${largest ? (Math.abs(row.value) / largest) * 100 : 0}%`;
    list.append(el("li", {},
      el("span", { class: "bar-label" }, row.label,
        row.note ? el("small", {}, ` ${row.note}`) : ""),
      el("span", { class: "bar-track", "aria-hidden": "true" }, fill),
      el("span", { class: "bar-value" }, row.text)));
  }
  return list;
}
