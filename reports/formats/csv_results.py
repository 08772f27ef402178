"""``results.csv``: one row per commitment x subject, for spreadsheets and BI tools.

Columns are stable and in English (a machine format); ``measured`` and ``expected`` hold JSON;
``attested`` says ``attested`` when the result rests on a person's attestation, not a tool.
Dates are ISO 8601 UTC. Rows come in the engine's order: commitments as in the contract,
subjects worst first.
"""

from __future__ import annotations

import csv
import io
import json

from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.results_json import iso, result_to_dict
from clausewatch.reports.verdict_text import is_attested

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
    """The CSV file (RFC 4180: comma separated, CRLF line ends, UTF-8)."""
    ev = view.evaluation
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for o in ev.outcomes:
        c = o.commitment
        for r in o.results:
            d = result_to_dict(r)
            waiver = d.get("waiver") or {}
            writer.writerow(
                (
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
            )
    return out.getvalue().encode("utf-8")


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
