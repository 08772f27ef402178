"""The HTML report: one self-contained file for people (steering committee, CISO, auditor).

Rendered with Jinja2 (autoescape on for HTML, strict undefined) from ``templates/``:
``base.html.j2`` is the layout (inline CSS, print styles, a Content-Security-Policy that
forbids loading anything), ``report.html.j2`` the run report built from blocks that a period
report can override. Charts are inline SVG computed in ``reports/charts.py``; no script, no
CDN, no network.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from clausewatch.core.result import Result
from clausewatch.reports import charts
from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.i18n import Catalogue
from clausewatch.reports.templating import environment
from clausewatch.reports.verdict_text import cost_text, since_text, verdict_sentence
from clausewatch.reports.view import OPEN_OFFENDERS, ClauseRow, ReportView


def context(view: ReportView) -> dict[str, Any]:
    """What every report template receives: the view, the catalogue and date helpers.

    ``verdict(row)`` phrases a clause's verdict in the report's language; the engine's English
    ``reason`` stays in results.json. ``reason(r)`` renders a subject's reason from its message
    id and parameters; one the catalogue cannot render stays English and is marked
    ``lang="en"`` (``foreign(r)``). ``since(when)`` and ``cost(row)``: breach start and penalty
    exposure from the history.
    """
    t = Catalogue(view.lang)
    tz = view.tz

    def day(value: date | datetime | None) -> str:
        return t.day(value, tz)

    def moment(value: datetime | None) -> str:
        return t.moment(value, tz)

    def verdict(row: ClauseRow) -> str:
        return verdict_sentence(t, row.outcome.verdict, tz, row.errors)

    def reason(r: Result) -> str:
        return t.reason(r, tz)

    def foreign(r: Result) -> bool:
        """Whether the reason is shown in English in a report in another language."""
        return view.lang != "en" and t.reason(r, tz) == r.reason

    return {
        "view": view,
        "t": t,
        "lang": view.lang,
        "day": day,
        "moment": moment,
        "verdict": verdict,
        "reason": reason,
        "foreign": foreign,
        "since": lambda when: since_text(t, view, when),
        "cost": lambda row: cost_text(t, row),
        "source_lang": "en",
        "open_offenders": OPEN_OFFENDERS,
        "version": view.info.tool_version,
    }


@FORMATS.register(
    "html",
    file_name="report.html",
    media_type="text/html",
    description={
        "en": "the report for people: one self-contained page (no script, no network), "
        "prints on A4",
        "fr": "le rapport pour les personnes : une page autonome (ni script ni réseau), "
        "imprimable en A4",
    },
)
def render(view: RunView) -> bytes:
    """The run report as one HTML document, in the view's language."""
    report = view.report()
    ctx = context(report)
    ctx["status_chart"] = charts.status_chart(report.clauses)
    ctx["histograms"] = charts.patch_age_histograms(view.evaluation)
    return environment().get_template("report.html.j2").render(ctx).encode("utf-8")
