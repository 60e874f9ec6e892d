"""The receipt as Markdown (for the repository, chat and the terminal) and as HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from analytics_pipeline.receipts.figures import Figure

# The dashboard serves the stylesheet; a linked sheet (not inline CSS) because the page is
# also opened from the dashboard, whose Content-Security-Policy refuses inline styles.
STYLESHEET = "/static/receipt.css"


@dataclass(frozen=True)
class Receipt:
    as_of: datetime
    currency: str
    figures: list[Figure]
    markdown: str
    html: str


def build_receipt(figures: list[Figure], as_of: datetime, currency: str) -> Receipt:
    """Render ``figures`` (see :func:`receipt_figures`) both ways."""
    return Receipt(as_of, currency, figures, _markdown(figures, as_of, currency),
                   _html(figures, as_of, currency))


def shown(value: float, unit: str, currency: str) -> str:
    """``1,234.50 USD`` for money, ``+4.2 %`` for a share."""
    return f"{value:+.1%}".replace("%", " %") if unit == "share" else f"{value:,.2f} {currency}"


def _detail(name: str, value: float, currency: str) -> str:
    if name.endswith("_share"):
        return f"{name[:-6].replace('_', ' ')}: {value:.1%}".replace("%", " %")
    label = name.replace("_", " ")
    if name.endswith("_cost"):
        return f"{label}: {value:,.2f} {currency}"
    return f"{label}: {value:,.0f}"


def _heading(as_of: datetime) -> str:
    return f"Value receipt, as of {as_of:%Y-%m-%d %H:%M %Z}".strip()


def _markdown(figures: list[Figure], as_of: datetime, currency: str) -> str:
    lines = [f"# {_heading(as_of)}", ""]
    for figure in figures:
        lines.append(f"## {figure.title}")
        if figure.value is None:
            lines.append(f"**Left out:** {figure.reason}")
        else:
            lines.append(f"**{shown(figure.value, figure.unit, currency)}**")
            lines.extend(f"- {_detail(k, v, currency)}" for k, v in figure.details.items())
        lines += ["", f"*How:* {figure.how}", ""]
    return "\n".join(lines)


def _html(figures: list[Figure], as_of: datetime, currency: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>{e(_heading(as_of))}</title><link rel=stylesheet href={STYLESHEET}>"
             f"</head><body><h1>{e(_heading(as_of))}</h1>"]
    for figure in figures:
        parts.append(f"<section id={e(figure.key)}><h2>{e(figure.title)}</h2>")
        if figure.value is None:
            parts.append(f"<p class=left-out><strong>Left out:</strong> {e(figure.reason or '')}")
        else:
            parts.append(f"<p class=value>{e(shown(figure.value, figure.unit, currency))}</p>")
            rows = "".join(f"<tr><td>{e(_detail(k, v, currency))}</td></tr>"
                           for k, v in figure.details.items())
            parts.append(f"<table>{rows}</table>" if rows else "")
        parts.append(f"<p class=how><em>How:</em> {e(figure.how)}</p></section>")
    parts.append("</body></html>\n")
    return "".join(parts)
