"""``WS /ws/revenue/live``: the current revenue figures, pushed every few seconds."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from analytics_pipeline.api.auth import ApiKeys
from analytics_pipeline.api.live_feed import LiveFeed

router = APIRouter(tags=["live"])


@router.websocket("/ws/revenue/live")
async def revenue_live(ws: WebSocket) -> None:
    """Sends ``/api/revenue/current``'s JSON on connect and then on every tick.

    Browsers cannot set headers on a WebSocket, so the key may come as ``?key=``.
    """
    keys: ApiKeys = ws.app.state.api_keys
    token = (ws.query_params.get("key")
             or ws.headers.get("authorization", "").partition(" ")[2])
    if keys.configured and "read" not in (keys.scopes_for(token) or frozenset()):
        await ws.close(code=status.WS_1008_POLICY_VIOLATION, reason="needs a key with read scope")
        return
    feed: LiveFeed = ws.app.state.live_feed
    await ws.accept()
    await feed.join(ws)
    try:
        while True:
            await ws.receive_text()  # clients send nothing; this notices when they leave
    except WebSocketDisconnect:
        pass
    finally:
        feed.leave(ws)
