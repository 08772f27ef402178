"""``junit.xml``: one test case per commitment, so CI systems show the contract as a test suite.

breached -> ``<failure>``; no_evidence -> ``<error>`` (the test could not run properly);
compliant and waived pass; at_risk passes with the subjects falling due in ``<system-out>``.
Offending subjects are listed in the failure text, worst first.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from clausewatch.core.evaluation import Outcome
from clausewatch.core.result import Status, is_offender
from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.results_json import iso

MAX_LISTED = 100


@FORMATS.register(
    "junit",
    file_name="junit.xml",
    media_type="application/xml",
    description={
        "en": "one test case per commitment, so CI systems show the contract as a test suite",
        "fr": "un cas de test par engagement : les outils d'intégration continue affichent le "
        "contrat comme une suite de tests",
    },
)
def render(view: RunView) -> bytes:
    """The JUnit XML document (the common Jenkins/GitLab/GitHub dialect)."""
    ev, info = view.evaluation, view.info
    k = ev.contract
    statuses = [o.verdict.status for o in ev.outcomes]
    suites = ET.Element(
        "testsuites",
        name=f"ClauseWatch: {k.title}",
        tests=str(len(statuses)),
        failures=str(statuses.count(Status.BREACHED)),
        errors=str(statuses.count(Status.NO_EVIDENCE)),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=k.id,
        tests=str(len(statuses)),
        failures=str(statuses.count(Status.BREACHED)),
        errors=str(statuses.count(Status.NO_EVIDENCE)),
        skipped="0",
        timestamp=iso(ev.as_of) or "",
        hostname="clausewatch",
        time="0",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("contract", k.id),
        ("contract_sha256", k.digest),
        ("provider", k.provider),
        ("customer", k.customer),
        ("as_of", iso(ev.as_of) or ""),
        ("run_id", info.run_id),
        ("tool_version", info.tool_version),
        ("overall_status", str(ev.status)),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for o in ev.outcomes:
        _testcase(suite, o, k.id)
    ET.indent(suites)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
    return text.encode("utf-8")


def _testcase(suite: ET.Element, o: Outcome, classname: str) -> None:
    c, v = o.commitment, o.verdict
    case = ET.SubElement(
        suite, "testcase", classname=classname, name=f"{c.clause} {c.id}: {c.title}", time="0"
    )
    headline = f"{v.status}: {v.reason}"
    if v.status is Status.BREACHED:
        ET.SubElement(case, "failure", message=headline, type="breached").text = _listing(o)
    elif v.status is Status.NO_EVIDENCE:
        ET.SubElement(case, "error", message=headline, type="no_evidence").text = _listing(o)
    elif v.status is Status.AT_RISK:
        ET.SubElement(case, "system-out").text = headline + "\n" + _listing(o)
    elif v.status is Status.WAIVED:
        ET.SubElement(case, "system-out").text = headline + "\n" + _listing(o)


def _listing(o: Outcome) -> str:
    offenders = [r for r in o.results if is_offender(r.status)]
    lines = [
        f"[{r.status}] {r.reason}"
        + (f" (due {iso(r.due)})" if r.due else "")
        for r in offenders[:MAX_LISTED]
    ]
    if len(offenders) > MAX_LISTED:
        lines.append(f"... and {len(offenders) - MAX_LISTED} more (see results.csv)")
    return "\n".join(lines) + "\n"
