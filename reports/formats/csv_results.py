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
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.results_json import iso, outcome_plain
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
    prepared = view.prepared.get("csv")
    rows = prepared if isinstance(prepared, Rows) and prepared.complete(ev) else None
    if rows is None:
        rows = Rows(ev)
        for o in ev.outcomes:
            doc, same = outcome_plain(o)
            rows(o, doc["results"], same)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows.rows)
    return ("\ufeff" if bom else "").encode("utf-8") + out.getvalue().encode("utf-8")


class Rows:
    """The CSV's rows (cells already made safe), built from each outcome's results made plain
    (``result_to_dict``): ``results_json.chunks(each=rows)`` hands them over as it writes
    results.json, so publishing makes each result plain once for both files; ``render``
    takes them from ``RunView.prepared["csv"]`` when they are those of its evaluation."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.rows: list[tuple[str, ...]] = []
        self._outcomes = 0

    def complete(self, evaluation: Evaluation) -> bool:
        """Whether these are the rows of every outcome of ``evaluation``."""
        return self.evaluation is evaluation and self._outcomes == len(evaluation.outcomes)

    def __call__(self, o: Outcome, results: Sequence[Mapping[str, Any]], same: bool) -> None:
        """Add the rows of ``o``, whose results made plain are ``results``; ``same``: orjson
        writes them exactly as ``json`` does (else ``json`` encodes the JSON cells)."""
        c = o.commitment
        head = tuple(safe(v) for v in (c.id, c.clause, str(c.responsible), str(o.verdict.status)))
        encode = _compact if same else _json
        add = self.rows.append
        for r, d in zip(o.results, results, strict=True):
            waiver = d.get("waiver") or {}
            add((*head, *(safe(value) for value in (
                r.subject,
                d["label"],
                str(r.status),
                r.reason,
                iso(r.due) or "",
                waiver.get("reference", ""),
                waiver.get("expires", ""),
                " ".join(r.evidence_ids),
                encode(d["measured"]),
                encode(d["expected"]),
                "attested" if is_attested(r) else "",
            ))))
        self._outcomes += 1


def safe(value: object) -> str:
    """A cell as inert data: on one line, and never read as a formula."""
    text = "" if value is None else str(value)
    flat = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    return "'" + flat if flat[:1] in FORMULA_STARTS else flat


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _compact(value: object) -> str:
    """``_json(value)`` by orjson, for values ``results_json.same_in_orjson`` passes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
        return _json(value)
