"""The portfolio report: every customer contract x clause, in HTML, Markdown and JSON.

It reads the roll-up computed from the history (``history.portfolio``); it never re-judges a
run. The HTML extends the shared ``base.html.j2`` layout and takes every word and number
format from the report catalogue (``reports/i18n.py``); JSON is for machines (English keys,
shares as fractions, ``null`` where nothing was measured).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clausewatch.core.clock import iso_z
from clausewatch.core.run import tool_version
from clausewatch.history.portfolio import ClauseRow, Portfolio
from clausewatch.reports.i18n import Catalogue, pick_language
from clausewatch.reports.output import write_text_atomic
from clausewatch.reports.period import environment

FORMATS = ("html", "md", "json")


@dataclass(frozen=True, slots=True)
class Written:
    paths: tuple[Path, ...]


def to_json(p: Portfolio) -> dict[str, Any]:
    """The roll-up as a JSON document (stable key order)."""
    return {
        "period": p.period.label,
        "generated_at": iso_z(p.generated_at),
        "tool_version": tool_version(),
        "contracts": p.contracts,
        "exposure_total": p.exposure_total,
        "rows": [_row_json(r) for r in p.rows],
    }


def _row_json(r: ClauseRow) -> dict[str, Any]:
    e = r.exposure
    return {
        "contract": r.contract_id,
        "provider": r.provider,
        "customer": r.customer,
        "commitment": r.commitment_id,
        "clause": r.clause,
        "title": r.title,
        "responsible": r.responsible,
        "target": r.target,
        "status_now": None if r.status_now is None else str(r.status_now),
        "night_share": r.night_share,
        "nights": r.nights,
        "nights_not_measured": r.nights_not_measured,
        "breaches_open": r.breaches_open,
        "oldest_open_breach_days": r.oldest_open_breach_days,
        "penalty": None if e is None else {
            "currency": e.currency, "amount": e.amount, "uncapped": e.uncapped,
            "cap": e.cap, "cap_period": e.cap_period,
        },
        "trend": list(r.trend),
    }


def _context(p: Portfolio, lang: str) -> dict[str, Any]:
    t = Catalogue(lang)
    return {
        "p": p,
        "t": t,
        "lang": lang,
        "version": tool_version(),
        "period_name": t.period(p.period.kind, p.period.year, p.period.index),
        "generated": t.moment(p.generated_at),
        "exposure": p.exposure_total,
    }


def render(p: Portfolio, fmt: str, lang: str | None = None) -> str:
    """One format of the report; ``lang`` defaults to English (``ValueError`` if unknown)."""
    if fmt == "json":
        return json.dumps(to_json(p), ensure_ascii=False, indent=2) + "\n"
    ctx = _context(p, pick_language(lang, None))
    template = {"html": "portfolio.html.j2", "md": "portfolio.md.j2"}[fmt]
    return environment().get_template(template).render(ctx)


def write(out: Path, p: Portfolio, formats: tuple[str, ...] = FORMATS,
          lang: str | None = None) -> Written:
    """``portfolio-<period>.<ext>`` for each format, each written atomically."""
    paths = []
    for fmt in formats:
        path = out / f"portfolio-{p.period.label}.{fmt}"
        write_text_atomic(path, render(p, fmt, lang))
        paths.append(path)
    return Written(tuple(paths))
