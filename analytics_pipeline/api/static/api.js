// The API key and the requests that carry it.
//
// `analytics-pipeline demo` prints a link ending in #key=...: the fragment never leaves the
// browser (not in requests, not in server logs), so the key is read from there, kept in
// this browser's storage and removed from the address bar at once, so that it does not
// end up in bookmarks, history or a screenshot of the page.

const STORAGE_KEY = "retail-pulse.api-key";
// Where the key lives when storage is disabled (private mode): until the page closes.
let memoryKey = "";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Move a key found in the URL fragment into storage. */
export function adoptKeyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key");
  if (!key) return;
  saveKey(key);
  params.delete("key");
  const rest = params.toString();
  history.replaceState(null, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
}

export function currentKey() {
  try {
    return localStorage.getItem(STORAGE_KEY) || memoryKey;
  } catch {
    return memoryKey;
  }
}

export function saveKey(key) {
  try {
    localStorage.setItem(STORAGE_KEY, key.trim());
  } catch {
    memoryKey = key.trim();
  }
}

export function forgetKey() {
  memoryKey = "";
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/** GET a JSON document; rejects with an ApiError naming the status and the API's reason. */
export async function getJSON(path, signal) {
  const headers = { Accept: "application/json" };
  const key = currentKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { headers, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server cannot be reached");
  }
  if (!response.ok) throw new ApiError(response.status, await reason(response));
  return response.json();
}

async function reason(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  } catch {
    // not JSON: fall through to the status text
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** The live feed's address; browsers cannot set headers on a WebSocket, so ?key=. */
export function liveURL() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const key = currentKey();
  const query = key ? `?key=${encodeURIComponent(key)}` : "";
  return `${scheme}//${location.host}/ws/revenue/live${query}`;
}
