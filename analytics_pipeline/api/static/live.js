// The live feed: WS /ws/revenue/live pushes /api/revenue/current's JSON on connect and on
// every tick. A dropped connection is retried with exponential backoff (1 s doubling to
// 30 s, with jitter so that many phones do not all come back in the same second after a
// server restart); the backoff resets once a message arrives, not on open, because a
// refused key also opens and closes at once.

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/**
 * @param {() => string} url  called before every attempt (the key may have changed)
 * @param {(data: object) => void} onMessage
 * @param {(state: "connecting" | "live" | "lost") => void} onState
 */
export function connectLive({ url, onMessage, onState }) {
  let failures = 0;
  let socket = null;
  let timer = null;

  function open() {
    clearTimeout(timer);
    onState(failures ? "lost" : "connecting");
    socket = new WebSocket(url());
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return; // not ours: ignore rather than break the tiles
      }
      failures = 0;
      onState("live");
      onMessage(data);
    });
    socket.addEventListener("close", retryLater);
  }

  function retryLater() {
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures);
    failures += 1;
    onState("lost");
    timer = setTimeout(open, base * (0.75 + Math.random() * 0.5));
  }

  function reconnectNow() {
    if (socket && socket.readyState <= WebSocket.OPEN) {
      socket.removeEventListener("close", retryLater);
      socket.close();
    }
    open();
  }

  // Coming back online or to the tab is the moment a user looks: do not wait out a backoff.
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && failures) reconnectNow();
  });
  open();
  return { reconnectNow };
}
