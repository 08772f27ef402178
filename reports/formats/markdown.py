"""``summary.md``: the run in a page of Markdown (for tickets, chat, merge requests, wikis).

Same content as the top of the HTML report, in the same language, from the same view: one line
per clause and how the measured share is computed, then the worst offenders of every clause
(whatever its verdict) with the verdict phrased in the report's language, waivers and missing
evidence.
"""

from __future__ import annotations

from datetime import datetime

from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.i18n import Catalogue
from clausewatch.reports.verdict_text import cost_text, since_text, verdict_sentence
from clausewatch.reports.view import ReportView

OFFENDERS_SHOWN = 10


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


@FORMATS.register(
    "markdown",
    file_name="summary.md",
    media_type="text/markdown",
    description={
        "en": "the run in a page of Markdown, for tickets, chat, merge requests and wikis",
        "fr": "l'exécution en une page de Markdown, pour les tickets, messageries, demandes "
        "de fusion et wikis",
    },
)
def render(view: RunView) -> bytes:
    """``summary.md`` in the view's language."""
    return page(view.report()).encode("utf-8")


def page(view: ReportView) -> str:
    """The Markdown text of a report view."""
    t = Catalogue(view.lang)
    k, tz = view.contract, view.tz

    def label(key: str) -> str:
        return f"**{t.t(key)}{t.t('colon')}**"

    def since(when: datetime | None, sep: str) -> str:
        return sep + since_text(t, view, when) if when else ""

    semi = "\u202f;" if view.lang == "fr" else ";"

    out = [
        f"# {t.t('report_title')} — {k.title}",
        "",
        f"{label('provider')} {k.provider} · {label('customer')} {k.customer}  ",
        f"{label('as_of')} {t.moment(view.as_of, tz)} · "
        f"{label('overall')} {t.status(view.status).upper()}  ",
        f"{label('contract')} `{k.id}` (SHA-256 `{k.digest[:16]}…`) · "
        f"{label('run_id')} `{view.info.run_id}` · "
        f"{label('evidence_records')} {view.evidence_count}",
        "",
    ]
    if view.partial:
        out += [f"> {t.t('partial_run')}", ""]
    out += [
        f"## {t.t('summary')}",
        "",
        f"| {t.t('clause')} | {t.t('commitment')} | {t.t('responsible')} | {t.t('status')} "
        f"| {t.t('measured')} / {t.t('target')} | {t.t('due')} | {t.t('cost')} |",
        "|---|---|---|---|---:|---|---|",
    ]
    for row in view.clauses:
        out.append(
            f"| {cell(row.clause)} | {cell(row.title)} | {t.party(row.responsible)} "
            f"| **{t.status(row.status)}**{since(row.verdict_since, ' — ')} "
            f"| {t.percent(row.measured)} / {t.percent(row.target, 0)} | {t.day(row.due, tz)} "
            f"| {cost_text(t, row)} |"
        )
    out += ["", f"*{t.t('measured_note')}*", ""]
    attention = [row for row in view.clauses if row.offenders]
    if attention:
        out += [f"## {t.t('offenders')}", ""]
    for row in attention:
        out += [f"### {row.clause} — {row.title} ({t.status(row.status)})", ""]
        out.append(
            f"{t.t('verdict_reason')} {verdict_sentence(t, row.outcome.verdict, tz, row.errors)}"
        )
        out += ["", f"{label('cost')} {cost_text(t, row)}", ""]
        for r in row.offenders[:OFFENDERS_SHOWN]:
            due = f" — {t.t('due')} {t.day(r.due, tz)}" if r.due else ""
            out.append(f"- **{t.status(str(r.status))}** {t.reason(r, tz)}{due}"
                       f"{since(row.breached_since(r), ' — ')}")
        more = len(row.offenders) + row.hidden - OFFENDERS_SHOWN
        if more > 0:
            out.append(f"- {t.t('more_offenders', n=more)}")
        out.append("")
    out += [f"## {t.t('waivers')}", ""]
    if not view.waivers:
        out += [t.t("waivers_none"), ""]
    for w in view.waivers:
        state = (
            t.t("waiver_expiring", days=w.days_left)
            if w.state == "expiring"
            else t.t(f"waiver_{w.state}")
        )
        out.append(
            f"- **{w.clause}** {', '.join(w.subjects)}{t.t('colon')} {state} "
            f"({t.t('waiver_expires')} {t.day(w.expires)}{semi} {w.approver}{semi} "
            f"{w.reference}) — {w.reason}"
        )
    out += ["", f"## {t.t('missing')}", ""]
    if not view.errors:
        out += [t.t("missing_none"), ""]
    for e in view.errors:
        err = e.error
        where = f"{err.origin} ({err.operation})" if err.operation else err.origin
        out.append(
            f"- `{err.source}` {where}{t.t('colon')} {err.message} — {t.t('error_affects')}"
            f"{t.t('colon')} "
            f"{', '.join(e.affects) or '-'}"
        )
    out += ["", "---", t.t("footer", version=view.info.tool_version), ""]
    return "\n".join(out)
