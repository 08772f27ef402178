"""``summary.md``: the run in a page of Markdown (for tickets, chat, merge requests, wikis).

Same content as the top of the HTML report, in the same language, from the same view: one line
per clause and how the measured share is computed, then the worst offenders of every clause
(whatever its verdict) with the verdict phrased in the report's language, waivers and missing
evidence.
"""

from __future__ import annotations

import re
from datetime import datetime

from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.i18n import Catalogue
from clausewatch.reports.verdict_text import attested_mark, cost_text, since_text, verdict_sentence
from clausewatch.reports.view import ClauseRow, ReportView

OFFENDERS_SHOWN = 10


#: CommonMark punctuation that can start markup inline or open a block (headings, quotes,
#: lists, code, HTML, links, emphasis, tables); any ASCII punctuation may be backslash-escaped
#: (https://spec.commonmark.org/0.31.2/#backslash-escapes).
#: Data is put on one line after a prefix of ours, so the characters that matter only at the
#: start of a line (``-``, ``+``, ``=``, digits) cannot open a block there.
_BREAKS = re.compile(r"[ \t\r\n\f\v\u2028\u2029\x85]+")
_MARKUP = re.compile(r"([\\`*_{}\[\]<>#|~])|&(?=#?\w+;)")


def text(value: object) -> str:
    """Data (a reason, a name, an error message) as inert Markdown on one line: line breaks
    become spaces and markup characters are escaped, so an HTML page or a '# heading' in an
    API's answer renders as the text it is."""
    flat = _BREAKS.sub(" ", str(value)).strip(" ")  # no-break spaces stay (French typography)
    return _MARKUP.sub(lambda m: "\\" + m.group(0), flat)


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell (a '|' no longer ends it)."""
    return text(value)


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
        f"# {t.t('report_title')} — {text(k.title)}",
        "",
        f"{label('provider')} {text(k.provider)} · {label('customer')} {text(k.customer)}  ",
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
            f"| **{t.status(row.status)}**{_attested(t, row)}{since(row.verdict_since, ' — ')} "
            f"| {t.percent(row.measured)} / {t.percent(row.target, 0)} | {t.day(row.due, tz)} "
            f"| {text(cost_text(t, row))} |"
        )
    out += ["", f"*{t.t('measured_note')}*", ""]
    attention = [row for row in view.clauses if row.offenders]
    if attention:
        out += [f"## {t.t('offenders')}", ""]
    for row in attention:
        out += [f"### {text(row.clause)} — {text(row.title)} ({t.status(row.status)})", ""]
        out.append(
            f"{t.t('verdict_reason')} {verdict_sentence(t, row.outcome.verdict, tz, row.errors)}"
        )
        out += ["", f"{label('cost')} {cost_text(t, row)}", ""]
        for r in row.offenders[:OFFENDERS_SHOWN]:
            due = f" — {t.t('due')} {t.day(r.due, tz)}" if r.due else ""
            out.append(f"- **{t.status(str(r.status))}**{attested_mark(t, r)} "
                       f"{text(t.reason(r, tz))}{due}{since(row.breached_since(r), ' — ')}")
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
            f"- **{text(w.clause)}** {text(', '.join(w.subjects))}{t.t('colon')} {state} "
            f"({t.t('waiver_expires')} {t.day(w.expires)}{semi} {text(w.approver)}{semi} "
            f"{text(w.reference)}) — {text(w.reason)}"
        )
    out += ["", f"## {t.t('missing')}", ""]
    if not view.errors:
        out += [t.t("missing_none"), ""]
    for e in view.errors:
        err = e.error
        where = f"{err.origin} ({err.operation})" if err.operation else err.origin
        out.append(
            f"- {text(err.source)} {text(where)}{t.t('colon')} {text(e.summary)} — "
            f"{t.t('error_affects')}{t.t('colon')} {text(', '.join(e.affects)) or '-'}"
        )
    out += ["", "---", t.t("footer", version=view.info.tool_version), ""]
    return "\n".join(out)


def _attested(t: Catalogue, row: ClauseRow) -> str:
    """`` (attested: 1)`` beside a clause's status when some of its results rest on one."""
    return f" ({t.t('attested')}{t.t('colon')} {len(row.attested)})" if row.attested else ""
