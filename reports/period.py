"""The steering-committee report for one period: HTML (inline CSS and SVG) and Markdown.

It reads attainment computed from the history (``history.attainment``); it never re-judges a
run. The HTML extends the shared ``base.html.j2`` layout of the run report. Every word and
number format comes from the report catalogue (``reports/i18n.py``), in the language asked for
or else the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from clausewatch.core.run import tool_version
from clausewatch.history.attainment import CommitmentAttainment, PeriodAttainment
from clausewatch.reports import period_charts
from clausewatch.reports.i18n import Catalogue, pick_language
from clausewatch.reports.output import write_text_atomic

TREND_PERIODS = 6
STRIP_CODES = {"compliant": "C", "at_risk": "r", "waived": "w", "no_evidence": "?",
               "breached": "X"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Written:
    html: Path
    markdown: Path


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("clausewatch.reports", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def context(
    att: PeriodAttainment, history: list[PeriodAttainment], now: datetime, lang: str
) -> dict[str, Any]:
    tz = att.contract.timezone
    t = Catalogue(lang)
    rows: list[CommitmentAttainment] = list(att.commitments)
    p = att.period
    return {
        "att": att,
        "rows": rows,
        "t": t,
        "lang": lang,
        "version": tool_version(),
        "period_name": t.period(p.kind, p.year, p.index),
        "generated": t.moment(now, tz),
        "first_day": t.day(p.first_day()),
        "last_day": t.day(p.days()[-1]),
        "latest": t.moment(att.latest, tz) if att.latest else "",
        "strip": period_charts.strip(att),
        "strip_codes": STRIP_CODES,
        "lines": [period_charts.line(att, c) for c in rows],
        "trends": period_charts.trends(history),
        "history": history,
        "exposure": att.exposure_total,
    }


def render(
    att: PeriodAttainment,
    history: list[PeriodAttainment],
    now: datetime,
    lang: str | None = None,
) -> tuple[str, str]:
    """(HTML, Markdown) of the report; ``history`` is the trend, oldest first, ending at ``att``.

    ``lang`` defaults to the contract's language (``ValueError`` for an unknown one).
    """
    env = environment()
    ctx = context(att, history, now, pick_language(lang, att.contract.language))
    return (
        env.get_template("period.html.j2").render(ctx),
        env.get_template("period.md.j2").render(ctx),
    )


def write(out: Path, att: PeriodAttainment, history: list[PeriodAttainment],
          now: datetime, lang: str | None = None) -> Written:
    html, markdown = render(att, history, now, lang)
    stem = f"period-{att.period.label}"
    written = Written(out / f"{stem}.html", out / f"{stem}.md")
    write_text_atomic(written.html, html)
    write_text_atomic(written.markdown, markdown)
    return written
