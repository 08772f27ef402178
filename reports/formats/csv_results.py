"""``results.csv``: one row per commitment x subject, for spreadsheets and BI tools.

Columns are stable and in English (a machine format); ``measured`` and ``expected`` hold JSON;
``attested`` says ``attested`` when the result rests on a person's attestation, not a tool.
Dates are ISO 8601 UTC. Rows come in the engine's order: commitments as in the contract,
subjects worst first.

Two dialects (``--csv-dialect``). ``rfc4180``, the default: comma-separated, CRLF, UTF-8
without BOM, which every CSV parser and BI tool reads as is (a BOM would become part of the
first column's name for many of them). ``excel-fr``: semicolon-separated, UTF-8 with a BOM, for
Excel in a French (or any comma-decimal) locale, whose list separator is ';' and which reads a
file as UTF-8 only when it starts with a BOM; a BOM alone would still put every row in column A.

Every cell is data, never a formula: line breaks become spaces, and a cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` (OWASP, "CSV
Injection": https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import csv
import io
import json

from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.results_json import iso, result_to_dict
from clausewatch.reports.verdict_text import is_attested

#: name: (separator, UTF-8 BOM first)
DIALECTS = {"rfc4180": (",", False), "excel-fr": (";", True)}
DEFAULT_DIALECT = "rfc4180"
FORMULA_STARTS = frozenset("=+-@\t\r")

COLUMNS = (
    "commitment_id",
    "clause",
    "responsible",
    "commitment_status",
    "subject",
    "label",
    "status",
    "reason",
    "due",
    "waiver_reference",
    "waiver_expires",
    "evidence_ids",
    "measured",
    "expected",
    "attested",
)


@FORMATS.register(
    "csv",
    file_name="results.csv",
    media_type="text/csv",
    description={
        "en": "one row per commitment and subject, for spreadsheets and BI tools",
        "fr": "une ligne par engagement et par élément, pour les tableurs et outils décisionnels",
    },
)
def render(view: RunView) -> bytes:
    """The CSV file in the view's ``csv_dialect`` (default RFC 4180)."""
    name = view.options.get("csv_dialect", DEFAULT_DIALECT)
    if name not in DIALECTS:
        raise ValueError(f"unknown CSV dialect {name!r} (choose from {', '.join(DIALECTS)})")
    delimiter, bom = DIALECTS[name]
    ev = view.evaluation
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for o in ev.outcomes:
        c = o.commitment
        for r in o.results:
            d = result_to_dict(r)
            waiver = d.get("waiver") or {}
            row = (
                c.id,
                c.clause,
                str(c.responsible),
                str(o.verdict.status),
                r.subject,
                d["label"],
                str(r.status),
                r.reason,
                iso(r.due) or "",
                waiver.get("reference", ""),
                waiver.get("expires", ""),
                " ".join(r.evidence_ids),
                _json(d["measured"]),
                _json(d["expected"]),
                "attested" if is_attested(r) else "",
            )
            writer.writerow(safe(value) for value in row)
    return ("\ufeff" if bom else "").encode("utf-8") + out.getvalue().encode("utf-8")


def safe(value: object) -> str:
    """A cell as inert data: on one line, and never read as a formula."""
    text = "" if value is None else str(value)
    flat = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    return "'" + flat if flat[:1] in FORMULA_STARTS else flat


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
