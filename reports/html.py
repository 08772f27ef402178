"""The HTML report: one self-contained file for people (steering committee, CISO, auditor).

Rendered with Jinja2 (autoescape on for HTML, strict undefined) from ``templates/``:
``base.html.j2`` is the layout (inline CSS, print styles, a Content-Security-Policy that
forbids loading anything), ``report.html.j2`` the run report built from blocks that a period
report can override. Charts are inline SVG computed in ``charts.py``; no script, no CDN, no
network.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import jinja2

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import Evidence
from clausewatch.core.run import RunInfo
from clausewatch.reports import charts
from clausewatch.reports.i18n import Catalogue, pick_language
from clausewatch.reports.verdict_text import verdict_sentence
from clausewatch.reports.view import OPEN_OFFENDERS, ClauseRow, ReportView, build_view


def environment() -> jinja2.Environment:
    """The template environment shared by every HTML report."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("clausewatch.reports", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), disabled_extensions=("md.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def context(view: ReportView) -> dict[str, Any]:
    """What every report template receives: the view, the catalogue and date helpers.

    ``verdict(row)`` phrases a clause's verdict in the report's language; the engine's English
    ``reason`` stays in results.json. Per-subject reasons come from the checks in English, so a
    report in another language marks them ``lang="en"`` (``source_lang``).
    """
    t = Catalogue(view.lang)
    tz = view.tz

    def day(value: date | datetime | None) -> str:
        return t.day(value, tz)

    def moment(value: datetime | None) -> str:
        return t.moment(value, tz)

    def verdict(row: ClauseRow) -> str:
        return verdict_sentence(t, row.outcome.verdict, tz, row.errors)

    return {
        "view": view,
        "t": t,
        "lang": view.lang,
        "day": day,
        "moment": moment,
        "verdict": verdict,
        "source_lang": "en",
        "open_offenders": OPEN_OFFENDERS,
        "version": view.info.tool_version,
    }


def render_html(
    ev: Evaluation,
    info: RunInfo,
    *,
    lang: str | None = None,
    evidence: Iterable[Evidence] = (),
    template: str = "report.html.j2",
) -> str:
    """The run report as one HTML document.

    ``lang`` defaults to the contract's language; ``evidence`` feeds the patch-age chart (left
    out when no patch evidence is given).
    """
    view = build_view(ev, info, pick_language(lang, ev.contract.language))
    ctx = context(view)
    ctx["status_chart"] = charts.status_chart(view.clauses)
    ctx["histograms"] = charts.patch_age_histograms(ev, evidence)
    return environment().get_template(template).render(ctx)
