"""The steering-committee report for one period: HTML (inline CSS and SVG) and Markdown.

It reads attainment computed from the history (``history.attainment``); it never re-judges a
run. The HTML extends the shared ``base.html.j2`` layout of the run report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from clausewatch.history.attainment import CommitmentAttainment, PeriodAttainment
from clausewatch.reports import period_charts
from clausewatch.reports.output import write_text_atomic
from clausewatch.reports.run_info import tool_version

TREND_PERIODS = 6


@dataclass(frozen=True, slots=True)
class Written:
    html: Path
    markdown: Path


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("clausewatch.reports", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = pct
    env.filters["days"] = days
    env.filters["money"] = money
    return env


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"


def days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} d"


def money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}".replace(",", "\u202f")


def context(
    att: PeriodAttainment, history: list[PeriodAttainment], now: datetime
) -> dict[str, Any]:
    tz = att.contract.timezone
    rows: list[CommitmentAttainment] = list(att.commitments)
    return {
        "att": att,
        "rows": rows,
        "lang": att.contract.language,
        "version": tool_version(),
        "generated": now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
        "first_day": att.period.first_day().isoformat(),
        "last_day": att.period.days()[-1].isoformat(),
        "latest": att.latest.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if att.latest else "",
        "strip": period_charts.strip(att),
        "lines": [period_charts.line(att, c) for c in rows],
        "trends": period_charts.trends(history),
        "history": history,
        "exposure": att.exposure_total,
    }


def render(
    att: PeriodAttainment, history: list[PeriodAttainment], now: datetime
) -> tuple[str, str]:
    """(HTML, Markdown) of the report; ``history`` is the trend, oldest first, ending at ``att``."""
    env = environment()
    ctx = context(att, history, now)
    return (
        env.get_template("period.html.j2").render(ctx),
        env.get_template("period.md.j2").render(ctx),
    )


def write(out: Path, att: PeriodAttainment, history: list[PeriodAttainment],
          now: datetime) -> Written:
    html, markdown = render(att, history, now)
    stem = f"period-{att.period.label}"
    written = Written(out / f"{stem}.html", out / f"{stem}.md")
    write_text_atomic(written.html, html)
    write_text_atomic(written.markdown, markdown)
    return written
