// The dashboard: loads every panel on its own (one failing endpoint shows its error in its
// panel only), keeps the tiles live over the WebSocket, and asks for a key on 401.
//
// When every panel has rendered with data, it sets <body data-ready="1"> and the
// performance mark "dashboard-ready" (what the browser tests and the benchmark wait for);
// <body data-settled="1"> says every panel has finished, with data or with an error.

import { adoptKeyFromFragment, currentKey, forgetKey, getJSON, liveURL, saveKey } from "./api.js";
import { clock } from "./format.js";
import { connectLive } from "./live.js";
import { renderAlerts, renderForecast } from "./panels-alerts.js";
import { renderReorder, renderTurnover } from "./panels-inventory.js";
import { renderExperiment } from "./panels-recommendations.js";
import { renderKpis, renderLtv, renderTopProducts, renderTrend } from "./panels-revenue.js";
import { renderSegments } from "./panels-segments.js";

let trendWindow = "30d";
let newestAsOf = 0;
let publishedAt = null;
let lastUpdate = ""; // HH:MM:SS of the newest figures shown
let needsKey = false; // the API refused us: a dropped socket then means "no key", not "lost"

const PANELS = {
  kpis: { path: () => "/api/revenue/current", render: (_body, data) => showKpis(data) },
  trend: { path: () => `/api/revenue/trends?window=${trendWindow}`, render: renderTrend },
  products: { path: () => "/api/revenue/products/top?by=margin&limit=10",
    render: renderTopProducts },
  ltv: { path: () => "/api/revenue/customers/ltv", render: renderLtv },
  // The panel shows categories only; the per-product list (at least one) is not needed.
  turnover: { path: () => "/api/inventory/turnover?limit=1", render: renderTurnover },
  reorder: { path: () => "/api/inventory/reorder", render: renderReorder },
  // Two documents: the segments' sizes and the month-to-month moves between them.
  segments: { path: () => ["/api/segments/list", "/api/segments/performance"],
    render: renderSegments },
  alerts: { path: () => "/api/alerts?limit=50", render: renderAlerts },
  experiment: { path: () => "/api/recommendations/v2/performance", render: renderExperiment },
  // Last: it waits for the alerts and the reorder list to pick its product.
  forecast: { path: forecastPath, render: renderForecast,
    notFound: "There is no forecast for this product (too little sales history)." },
};
let chosenProduct = null; // the product whose forecast was asked for by a click
const loads = new Map(); // panel -> its latest load (a promise that never rejects)
const loaded = new Map(); // panel -> the data of its latest successful load
const failures = new Map(); // panel -> the failure of its latest load
const outcome = new Map(); // panel -> whether its latest load showed data
const cleanups = new Map(); // panel -> function removing its chart before a re-render
const latest = new Map(); // panel -> number of its newest request (older answers are dropped)

function loadPanel(name) {
  const load = loadPanelNow(name);
  loads.set(name, load);
  return load;
}

async function loadPanelNow(name) {
  const panel = PANELS[name];
  const section = document.querySelector(`[data-panel="${name}"]`);
  const error = section.querySelector(".panel-error");
  const request = (latest.get(name) ?? 0) + 1;
  latest.set(name, request);
  section.setAttribute("aria-busy", "true");
  try {
    const path = await panel.path();
    const data = path === null ? null
      : await (Array.isArray(path) ? Promise.all(path.map((p) => getJSON(p))) : getJSON(path));
    if (latest.get(name) !== request) return; // e.g. the trend window changed meanwhile
    loaded.set(name, data);
    failures.delete(name);
    cleanups.get(name)?.();
    cleanups.set(name, panel.render(section.querySelector(".panel-body"), data));
    showReady(section);
    settle(name, true);
  } catch (failure) {
    if (latest.get(name) !== request) return;
    loaded.delete(name);
    failures.set(name, failure);
    section.dataset.state = "error";
    error.textContent = failure.status === 404 && panel.notFound ? panel.notFound
      : explain(failure);
    error.hidden = false;
    if (failure.status === 401) {
      needsKey = true;
      askForKey();
    }
    settle(name, false);
  } finally {
    if (latest.get(name) === request) section.removeAttribute("aria-busy");
  }
}

/**
 * The forecast's address: the clicked product, else (once the alerts and the reorder list
 * have loaded) the first low-stock alert, the first reorder line or the first alert;
 * null when there is none. Fails like those panels when neither could load.
 */
async function forecastPath() {
  if (!chosenProduct) {
    await Promise.all([loads.get("alerts"), loads.get("reorder")]);
    if (!loaded.has("alerts") && !loaded.has("reorder")) {
      throw failures.get("alerts") ?? failures.get("reorder");
    }
  }
  const alerts = loaded.get("alerts")?.alerts ?? [];
  const product = chosenProduct ?? (alerts.find((alert) => alert.alert_type === "low_stock")
    ?? loaded.get("reorder")?.items[0] ?? alerts[0])?.product_id;
  return product ? `/api/inventory/forecast/${encodeURIComponent(product)}?history_days=60`
    : null;
}

/** A click on an alert or a reorder line's product shows that product's forecast. */
function wireProductPicks() {
  for (const name of ["alerts", "reorder"]) {
    document.querySelector(`[data-panel="${name}"]`).addEventListener("click", (event) => {
      const pick = event.target.closest("[data-product]");
      if (!pick) return;
      chosenProduct = pick.dataset.product;
      loadPanel("forecast");
      document.querySelector('[data-panel="forecast"]').scrollIntoView({ block: "nearest" });
    });
  }
}

function showReady(section) {
  section.dataset.state = "ready";
  section.querySelector(".panel-error").hidden = true;
}

function explain(failure) {
  switch (failure.status) {
    case 401: return "This panel needs an API key: enter one above.";
    case 403: return "This API key may not read these figures (it lacks the read scope).";
    case 404: return "This server does not offer these figures yet.";
    case 0: return "The server cannot be reached. Reload to try again.";
    default: return `Could not load: ${failure.message}`;
  }
}

function settle(name, ok) {
  outcome.set(name, ok);
  if (outcome.size < Object.keys(PANELS).length) return;
  document.body.dataset.settled = "1";
  // Marked once: the first moment every panel shows data (after a key was entered, say).
  if (!document.body.dataset.ready && [...outcome.values()].every(Boolean)) {
    performance.mark("dashboard-ready");
    document.body.dataset.ready = "1";
  }
}

function loadAll(names = Object.keys(PANELS)) {
  return Promise.all(names.map(loadPanel));
}

/** Tiles from GET /current or a live message, whichever is newer (they may cross). */
function showKpis(data) {
  const asOf = Date.parse(data.as_of);
  if (asOf < newestAsOf) return;
  newestAsOf = asOf;
  renderKpis(data);
  showReady(document.querySelector('[data-panel="kpis"]'));
  lastUpdate = clock(data.as_of);
  showUpdated();
  // A new batch run changes every other panel too: reload them when it is published.
  if (publishedAt !== null && data.published_at !== publishedAt) {
    loadAll(Object.keys(PANELS).filter((name) => name !== "kpis"));
  }
  publishedAt = data.published_at;
}

const LIVE_TEXT = {
  connecting: "Connecting to live updates…",
  live: "Live",
  lost: "Connection lost — reconnecting…",
  locked: "Live updates need an API key",
};

function showLiveState(reported) {
  const state = reported === "lost" && needsKey ? "locked" : reported;
  const status = document.getElementById("live");
  if (status.dataset.state === state) return;
  status.dataset.state = state;
  document.getElementById("live-state").textContent = LIVE_TEXT[state];
  document.querySelector('[data-panel="kpis"]').classList.toggle("stale", state === "lost");
  showUpdated();
}

function showUpdated() {
  if (!lastUpdate) return;
  const lost = document.getElementById("live").dataset.state === "lost";
  document.getElementById("live-updated").textContent =
    `${lost ? "last update" : "updated"} ${lastUpdate}`;
}

function askForKey() {
  document.getElementById("key-prompt").hidden = false;
}

function wireKeyControls(live) {
  const forget = document.getElementById("forget-key");
  forget.hidden = !currentKey();
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("key-input");
    saveKey(input.value);
    input.value = "";
    document.getElementById("key-prompt").hidden = true;
    forget.hidden = false;
    needsKey = false;
    loadAll();
    live.reconnectNow();
  });
  forget.addEventListener("click", () => {
    forgetKey();
    forget.hidden = true;
    askForKey();
  });
}

function wireWindowSwitch() {
  for (const input of document.querySelectorAll('input[name="window"]')) {
    input.checked = input.value === trendWindow;
    input.addEventListener("change", () => {
      trendWindow = input.value;
      loadPanel("trend");
    });
  }
}

adoptKeyFromFragment();
wireWindowSwitch();
wireProductPicks();
loadAll();
const live = connectLive({ url: liveURL, onMessage: showKpis, onState: showLiveState });
wireKeyControls(live);
