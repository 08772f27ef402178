"""The report formats against golden files (fixed clock, fixed run id), and their contracts."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import jsonschema_rs
import pytest
from report_case import render

from clausewatch.core.messages import MESSAGES, PLURALS
from clausewatch.core.result import Result, Status
from clausewatch.reports.formats import RunView, csv_results, oscal
from clausewatch.reports.i18n import Catalogue, pick_language

OSCAL_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "oscal"


def test_html_golden_in_the_contract_language_and_in_english(case, golden):
    golden("report.fr.html", render("html", case.ev, case.info))
    golden("report.en.html", render("html", case.ev, case.info, "en"))


def test_markdown_csv_junit_oscal_golden(case, golden):
    golden("summary.fr.md", render("markdown", case.ev, case.info))
    golden("summary.en.md", render("markdown", case.ev, case.info, "en"))
    golden("results.csv", render("csv", case.ev, case.info))
    golden("junit.xml", render("junit", case.ev, case.info))
    golden("oscal-assessment-results.json", render("oscal", case.ev, case.info))


def test_french_contract_renders_in_french_and_english_on_request(case):
    fr = render("html", case.ev, case.info)
    en = render("html", case.ev, case.info, "en")
    assert '<html lang="fr">' in fr and '<html lang="en">' in en
    for word in ("Non conforme", "Dérogations", "Preuves manquantes", "Clause par clause"):
        assert word in fr and word not in en
    for word in ("Breached", "Waivers", "Missing evidence", "Clause by clause"):
        assert word in en
    assert "22 novembre 2026" in fr and "22 Nov 2026" in en


def test_html_is_self_contained_and_escapes_contract_text(case):
    hostile = dataclasses.replace(
        case.ev, contract=dataclasses.replace(case.ev.contract, title="<script>alert(1)</script>")
    )
    page = render("html", hostile, case.info)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # the page may load nothing at all
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert page.count("<svg") >= 2  # status chart + patch-age histograms
    assert "@media print" in page


def test_html_lists_offenders_waivers_and_missing_evidence(case):
    page = render("html", case.ev, case.info, "en")
    for text in (
        "bob@client.test (Global Administrator): MFA registered but not enforced.",
        "srv-c: no patch data: no source reported any.",
        "DER-1",  # in force, expiring within 30 days
        "in force, expires in 18 d",
        "DER-0",  # expired
        "AccessDenied: not allowed to perform backup:ListBackupJobs",
        '<span class="clause-ref">§3</span>, <span class="clause-ref">§4</span>',  # the clauses
        # the collection error leaves without evidence, each kept on one line
    ):
        assert text in page, text


def test_patch_age_histograms_put_late_updates_right_of_the_deadline(case):
    from clausewatch.reports.charts import patch_age_histograms

    hists = patch_age_histograms(case.ev)
    charts = {(h.commitment_id, h.severity): h for h in hists}
    crit = charts[("PATCH-SRV", "critical")]
    assert crit.outstanding == 1 and crit.late == 1 and crit.deadline == 7
    (late_bin,) = [b for b in crit.bins if b.count]
    assert late_bin.late and late_bin.x >= crit.deadline_x
    imp = charts[("PATCH-SRV", "important")]
    assert imp.outstanding == 2 and imp.late == 0
    assert all(not b.late for b in imp.bins if b.count)


def test_csv_has_one_row_per_subject_result(case):
    rows = list(csv.DictReader(io.StringIO(render("csv", case.ev, case.info))))
    assert len(rows) == sum(len(o.results) for o in case.ev.outcomes)
    assert tuple(rows[0]) == csv_results.COLUMNS
    bob = next(r for r in rows if r["label"] == "bob@client.test")
    assert (bob["commitment_id"], bob["status"], bob["commitment_status"]) == (
        "MFA-ADMINS", "breached", "breached",
    )  # fmt: skip
    waived = next(r for r in rows if r["status"] == "waived")
    assert waived["waiver_reference"] == "DER-1" and waived["waiver_expires"] == "2026-12-10"
    assert json.loads(bob["measured"])["mfa_enforced"] is False


def test_junit_one_testcase_per_commitment_with_failures_and_errors(case):
    root = ET.fromstring(render("junit", case.ev, case.info).encode())
    cases = {c.get("name").split(" ")[1].rstrip(":"): c for c in root.iter("testcase")}
    assert set(cases) == {c.id for c in case.ev.contract.commitments}
    expected = {
        "MFA-ADMINS": "failure", "PATCH-SRV": "failure", "BACKUP-DB": "error",
        "RESTORE": "error", "PATCH-BATCH": None, "PATCH-LEGACY": None,
    }  # fmt: skip
    for cid, kind in expected.items():
        children = {child.tag for child in cases[cid]}
        assert ("failure" in children) == (kind == "failure"), cid
        assert ("error" in children) == (kind == "error"), cid
    assert "srv-b" in cases["PATCH-BATCH"].find("system-out").text
    assert "bob@client.test" in cases["MFA-ADMINS"].find("failure").text
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")


def _oscal_validator():
    schema = json.loads((OSCAL_SCHEMA / "oscal_assessment-results_schema.json").read_text())
    assert schema["$id"].endswith("/1.1.3/oscal-ar-schema.json")
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def test_oscal_document_is_valid_against_the_published_schema(case):
    validator = _oscal_validator()
    doc = oscal.to_document(RunView.of(case.ev, case.info, results_sha256="ab" * 32))
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    findings = doc["assessment-results"]["results"][0]["findings"]
    states = {f["target"]["target-id"]: f["target"]["status"] for f in findings}
    assert states["MFA-ADMINS"] == {"state": "not-satisfied", "reason": "fail"}
    assert states["BACKUP-DB"] == {"state": "not-satisfied", "reason": "other"}
    assert states["PATCH-BATCH"] == {"state": "satisfied", "reason": "pass"}
    # the validator is not a rubber stamp
    doc["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "meh"
    assert not validator.is_valid(doc)


def test_oscal_of_the_demo_run_is_valid(demo_run):
    assert demo_run.code == 3
    doc = json.loads((demo_run.out / "oscal-assessment-results.json").read_text())
    assert _oscal_validator().is_valid(doc)


def test_catalogue_has_every_key_in_every_language():
    fr = Catalogue("fr").gettext
    same = ("clause", "error_source")  # "Clause", "Source": the same word in French
    untranslated = [k for k, v in MESSAGES.items() if fr.gettext(v) == v and v[:1].isalpha()
                    and k not in same]
    untranslated += [k for k, (one, other) in PLURALS.items()
                     if fr.ngettext(one, other, 2) == other]
    assert not untranslated
    for status in Status:
        assert Catalogue("fr").status(str(status)) != Catalogue("en").status(str(status))


def test_language_choice_and_number_formats():
    assert pick_language(None, "fr") == "fr"
    assert pick_language("en", "fr") == "en"
    assert pick_language(None, "de") == "en"
    with pytest.raises(ValueError):
        pick_language("de", "fr")
    assert Catalogue("fr").percent(0.875) == "87,5\u00a0%"
    assert Catalogue("en").percent(0.875) == "87.5%"
    assert Catalogue("en").percent(None) == "n/a"


def test_oscal_ids_and_fragments_are_uuid5_and_urllib_quote():
    ids = oscal._Ids("run-1")
    for parts in (("result",), ("observation", "patch-all", "asset-000755"), ("x", "é☃", "")):
        assert ids(*parts) == str(uuid.uuid5(ids.base, "\x1f".join(parts)))
    for text in ("".join(map(chr, range(128))), "rmm:patch:a/b#c?d%e f", "Zürich ☃", ""):
        assert oscal.quote_all(text) == quote(text, safe="")


@pytest.mark.parametrize("reason", ["late ☃", 1e-05, float("nan")])
def test_oscal_is_json_dumps_of_its_document_whatever_a_reason_holds(case, reason):
    """A subject's observation is checked for orjson by its description alone: a reason that
    is not text sends the document to json, as a walk of it would."""
    outcome = case.ev.outcomes[0]
    odd = Result(commitment_id=outcome.commitment.id, subject="s-1", status=Status.BREACHED,
                 reason=reason)
    ev = dataclasses.replace(case.ev, outcomes=(
        dataclasses.replace(outcome, results=(*outcome.results, odd)), *case.ev.outcomes[1:]))
    view = RunView.of(ev, case.info)
    expected = json.dumps(oscal.to_document(view), indent=2, ensure_ascii=False) + "\n"
    assert oscal.render(view) == expected.encode()
