"""The digest: alerts grouped by severity, as a Slack Block Kit message and an e-mail.

Slack refuses messages over 50 blocks or with a section text over 3,000 characters, and an
undocumented total-size cap fails messages near 13k characters (``msg_blocks_too_long``).
So the Slack digest fills a budget most urgent first and ends each severity that does not
fit with a count of what was left out; the e-mail lists everything.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analytics_pipeline.notify.alerts import SEVERITIES, Alert

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_MESSAGE_CHARS = 11_000  # text; well below the ~13k undocumented cap
MAX_LINE_CHARS = 300
OVERFLOW_RESERVE = 120  # characters kept back for each severity's "... and N more" line
MAX_EMAIL_ALERTS = 2000

TYPE_LABELS = {
    "low_stock": "Low stock", "overstock": "Overstock", "trending": "Trending",
    "slow_mover": "Slow mover", "seasonal": "Seasonal peak",
}
SEVERITY_MARKS = {"critical": ":red_circle:", "warning": ":large_orange_circle:",
                  "info": ":large_blue_circle:"}


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification fallback
    blocks: list[Block]


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Digest:
    slack: SlackMessage
    email: EmailMessage


def build_digest(
    alerts: Sequence[Alert], title: str, note: str = "", currency: str = "USD"
) -> Digest:
    """Both renderings of ``alerts``; ``note`` (e.g. how many were held back) ends each."""
    groups = group_by_severity(alerts)
    counts = ", ".join(f"{len(groups[s])} {s}" for s in SEVERITIES if groups[s])
    return Digest(
        slack=_slack(groups, title, counts, note, currency),
        email=_email(groups, title, counts, note, currency),
    )


def group_by_severity(alerts: Sequence[Alert]) -> dict[str, list[Alert]]:
    """Severity -> alerts in their given order; unknown severities count as info."""
    groups: dict[str, list[Alert]] = {s: [] for s in SEVERITIES}
    for alert in alerts:
        groups[alert.severity if alert.severity in groups else "info"].append(alert)
    return groups


def message_chars(blocks: Sequence[Block]) -> int:
    """Characters of text a message carries (what Slack's size caps count)."""
    total = 0
    for block in blocks:
        texts = [block.get("text"), *block.get("elements", [])]
        total += sum(len(t["text"]) for t in texts if isinstance(t, dict))
    return total


def _slack(
    groups: dict[str, list[Alert]], title: str, counts: str, note: str, currency: str
) -> SlackMessage:
    present = [s for s in SEVERITIES if groups[s]]
    head = [{"type": "header", "text": _plain(_cut(title, MAX_HEADER_CHARS))},
            _context(counts or "no alerts")]
    tail = [_context(_escape(note))] if note else []
    # Every severity keeps room for its title and its overflow line, whatever comes first.
    blocks_left = MAX_BLOCKS - len(head) - len(tail) - 2 * len(present)
    chars_left = MAX_MESSAGE_CHARS - message_chars(head + tail) - (
        OVERFLOW_RESERVE + 60) * len(present)
    body: list[Block] = []
    for severity in present:
        alerts = groups[severity]
        body.append(_section(f"{SEVERITY_MARKS[severity]} *{severity.title()}* ({len(alerts)})"))
        lines = [_slack_line(a, currency) for a in alerts]
        sections, shown, used = _pack(lines, blocks_left, chars_left)
        body.extend(_section(text) for text in sections)
        blocks_left, chars_left = blocks_left - len(sections), chars_left - used
        if shown < len(lines):
            body.append(_context(f"... and {len(lines) - shown} more {severity} alerts not "
                                 "shown here (full list: the e-mail digest or GET /api/alerts)"))
    return SlackMessage(text=f"{title}: {counts or 'no alerts'}", blocks=head + body + tail)


def _pack(lines: Sequence[str], max_blocks: int, max_chars: int) -> tuple[list[str], int, int]:
    """Lines into section texts within the budgets: (texts, lines used, characters used)."""
    sections: list[str] = []
    current: list[str] = []
    size = used = shown = 0
    for line in lines:
        extra = len(line) + (1 if current else 0)
        if used + extra > max_chars:
            break
        if current and size + extra > MAX_SECTION_CHARS:
            sections.append("\n".join(current))
            current, size, extra = [], 0, len(line)
        if not current and len(sections) >= max_blocks:
            break
        current.append(line)
        size, used, shown = size + extra, used + extra, shown + 1
    if current:
        sections.append("\n".join(current))
    return sections, shown, used


def _slack_line(alert: Alert, currency: str) -> str:
    where = f" ({_escape(alert.category)})" if alert.category else ""
    facts = "".join(f" · {fact}" for fact in _facts(alert, currency))
    line = (f"• *{_escape(alert.product_name)}*{where} — {_label(alert)}: "
            f"{_escape(alert.reason)}{facts}")
    return _cut(line, MAX_LINE_CHARS)


def _facts(alert: Alert, currency: str) -> list[str]:
    facts = []
    if alert.suggested_quantity:
        facts.append(f"order {alert.suggested_quantity:,.0f}")
    if alert.expected_stockout_date:
        facts.append(f"stock-out {alert.expected_stockout_date[:10]}")
    if alert.revenue_at_risk:
        facts.append(f"{alert.revenue_at_risk:,.0f} {currency} at risk")
    return facts


def _email(
    groups: dict[str, list[Alert]], title: str, counts: str, note: str, currency: str
) -> EmailMessage:
    text = [title, counts or "no alerts", ""]
    parts = [f"<h1>{html.escape(title)}</h1><p>{html.escape(counts or 'no alerts')}</p>"]
    budget = MAX_EMAIL_ALERTS
    for severity in (s for s in SEVERITIES if groups[s]):
        alerts = groups[severity][:budget]
        budget -= len(alerts)
        left_out = len(groups[severity]) - len(alerts)
        text.append(f"{severity.upper()} ({len(groups[severity])})")
        text.extend(f"- {a.product_name} ({a.category or '-'}) — {_label(a)}: {a.reason}"
                    + "".join(f"; {f}" for f in _facts(a, currency)) for a in alerts)
        parts.append(f"<h2>{severity.title()} ({len(groups[severity])})</h2>")
        parts.append(_html_table(alerts, currency))
        if left_out:
            text.append(f"... and {left_out} more")
            parts.append(f"<p>... and {left_out} more</p>")
        text.append("")
    if note:
        text.append(note)
        parts.append(f"<p><small>{html.escape(note)}</small></p>")
    body = "\n".join(parts)
    return EmailMessage(
        subject=f"{title}: {counts or 'no alerts'}",
        text="\n".join(text).strip() + "\n",
        html=f"<!doctype html><html><body>{body}</body></html>",
    )


def _html_table(alerts: Sequence[Alert], currency: str) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("Product", "Category", "Alert", "Reason", "Details"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in (
            a.product_name, a.category or "", _label(a), a.reason,
            "; ".join(_facts(a, currency)))) + "</tr>"
        for a in alerts
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _label(alert: Alert) -> str:
    return TYPE_LABELS.get(alert.alert_type, alert.alert_type.replace("_", " ").capitalize())


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _escape(text: str) -> str:
    # Slack's mrkdwn reserves these three; product names come from the shop's data.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
