// Small DOM helpers. Data always goes in as text nodes (never innerHTML): product and
// category names come from the store's own files and must not be able to inject markup.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/**
 * A table with a caption and typed columns.
 * @param {string} caption  what the table lists (also its accessible name)
 * @param {{title: string, numeric?: boolean, narrow?: boolean, header?: boolean}[]} columns
 *   narrow columns are hidden on phones; the header column names its row
 * @param {(string | Node)[][]} rows
 */
export function table(caption, columns, rows) {
  const cls = (column) => [column.numeric && "num", column.narrow && "wide-only"]
    .filter(Boolean).join(" ") || null;
  return el("table", {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, ...columns.map((column) =>
      el("th", { scope: "col", class: cls(column) }, column.title)))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((cell, i) =>
      el(columns[i].header ? "th" : "td",
        { class: cls(columns[i]), scope: columns[i].header ? "row" : null }, cell))))));
}

/** Put `text` in the element with `id` (tiles are static markup filled by id). */
export function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}
