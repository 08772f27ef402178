"""Reasons a person can act on: KB number and title, the exact cause of no_evidence, a
collection error in one line, unique subject labels, inert Markdown and CSV cells."""

from __future__ import annotations

import csv
import io

from builders import AS_OF, asset, commitment, contract, days_ago, identity, patch
from report_case import case_info

from clausewatch.checks.engine import evaluate
from clausewatch.checks.labels import unique_labels
from clausewatch.checks.patch_lag import update_name
from clausewatch.collectors.aws.ssm import _why_no_patch_state
from clausewatch.core.errortext import error_summary, summarise_message
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Result, Status
from clausewatch.reports.formats import FORMATS, RunView

GUID = "5d1d8f4a-0b4e-4c43-9a55-0c2f3c7d9e11"
TITLE = "2026-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems"
PATCH = {"deadlines_days": {"critical": 7}}


def judge(*evidence, errors=(), params=PATCH, check="patch_lag"):
    k = contract(commitment(check, params))
    return evaluate(k, list(evidence), list(errors), AS_OF).outcomes[0].results


def test_a_late_windows_update_is_named_by_kb_and_title_not_its_catalogue_guid():
    srv = asset("pc-01", patch_assessed_at=days_ago(0, 2))
    late = patch("pc-01", GUID, "critical", "missing", released_at=days_ago(20), title=TITLE,
                 kb="KB5044284")
    (r,) = judge(srv, late)
    assert r.status is Status.BREACHED
    assert f'worst KB5044284 "{TITLE}" (critical) 13 days late.' in r.reason
    assert GUID not in r.reason
    assert r.measured["findings"][0]["update_id"] == GUID  # the id stays for machines


def test_update_names():
    assert update_name({"update_id": "KB5044281"}) == "KB5044281"
    assert update_name({"update_id": GUID, "title": f"{TITLE} (KB5044284)"}) == \
        f'"{TITLE} (KB5044284)"'
    assert update_name({"update_id": GUID, "title": "October security update"}) == \
        '"October security update"'
    assert update_name({"update_id": "RHSA-2026:1234", "title": "openssl security update"}) \
        == 'RHSA-2026:1234 "openssl security update"'
    assert update_name({"update_id": GUID}) == GUID  # nothing better to say
    assert len(update_name({"update_id": "KB1", "title": "x" * 500})) < 110


def test_no_evidence_gives_the_recorded_cause():
    never = asset("pc-02", asset_kind="workstation", patch_data_note="device never synced")
    legacy = asset("pc-03", patch_note="build 10.0.19045.9999 is not in the Windows Update "
                   "catalog")
    silent = asset("pc-04")
    stale = asset("pc-05", patch_assessed_at=days_ago(12, 3))
    by = {r.subject: r.reason for r in judge(never, legacy, silent, stale)}
    assert by["pc-02"] == "pc-02: no patch data: device never synced."
    assert by["pc-03"] == ("pc-03: no patch data: build 10.0.19045.9999 is not in the Windows "
                           "Update catalog.")
    assert by["pc-04"] == "pc-04: no patch data: no source reported any."
    assert by["pc-05"].startswith("pc-05: patch data stale since 2026-11-10 (12.1 days old;")


def test_ssm_says_whether_the_agent_is_missing_or_lost():
    assert "SSM Agent missing" in _why_no_patch_state(False, {})
    lost = _why_no_patch_state(True, {"PingStatus": "ConnectionLost",
                                      "LastPingDateTime": days_ago(9)})
    assert lost == "SSM Agent ConnectionLost since 2026-11-13; no patch scan recorded"
    assert "no patch scan" in _why_no_patch_state(True, {"PingStatus": "Online"})


HTML = ("<!DOCTYPE html><html><head><title>403 Forbidden</title><style>h1{x}</style></head>"
        "<body><h1>Forbidden</h1><p>You don't have permission &amp; never will.</p>"
        + "<p>filler</p>" * 500 + "</body></html>")


def test_a_collection_error_is_summarised_in_one_line():
    err = CollectionError(source="veeam", origin="veeam/vbr", kinds=("backup",),
                          message=HTML, details={"status": 403, "code": "Forbidden"})
    line = error_summary(err)
    assert line.startswith("HTTP 403: Forbidden You don't have permission & never will.")
    assert "<" not in line and "{x}" not in line and len(line) <= 200 and "\n" not in line
    assert summarise_message("AccessDenied: role X may not\nstack...", {"code": "AccessDenied"}) \
        == "AccessDenied: role X may not"
    assert summarise_message("", {"status": 503}) == "HTTP 503"


def test_reasons_carry_the_summary_and_the_evidence_keeps_the_whole_body():
    srv = asset("srv-1", patch_assessed_at=days_ago(0, 2), origin="veeam/vbr")
    err = CollectionError(source="test", origin="veeam/vbr", kinds=("patch",), message=HTML,
                          details={"status": 403})
    (r,) = judge(srv, errors=[err])
    assert r.status is Status.NO_EVIDENCE
    assert "HTTP 403: Forbidden You don't have permission" in r.reason
    assert len(r.reason) < 400 and "<" not in r.reason  # not 500 paragraphs of it
    assert err.message == HTML  # what goes to evidence.jsonl and the pack, whole


def test_two_aws_roots_get_labels_that_tell_them_apart():
    roots = [identity(f"arn:aws:iam::{acct}:root", account="root", account_type="root",
                      privileged=True, mfa_enforced=False)
             for acct in ("111111111111", "222222222222")]
    alone = identity("arn:aws:iam::333333333333:user/ops", account="ops", privileged=True)
    results = judge(*roots, alone, params={"require": "enforced"}, check="mfa_coverage")
    labels = {r.subject: r.label for r in results}
    assert labels["arn:aws:iam::111111111111:root"] == "root (account 111111111111)"
    assert labels["arn:aws:iam::222222222222:root"] == "root (account 222222222222)"
    assert labels["arn:aws:iam::333333333333:user/ops"] == "ops"
    reasons = {r.reason.split(":")[0] for r in results if r.status is Status.BREACHED}
    assert reasons == {"root (account 111111111111)", "root (account 222222222222)"}


def test_same_label_in_one_account_falls_back_to_the_ids():
    def result(subject: str) -> Result:
        return Result(commitment_id="c", subject=subject, status=Status.BREACHED,
                      reason="web-01: late.", label="web-01")

    a, b = unique_labels([result("arn:aws:ec2:eu-west-3:111111111111:instance/i-1"),
                          result("arn:aws:ec2:eu-west-1:111111111111:instance/i-2")])
    assert a.label == "web-01 (arn:aws:ec2:eu-west-3:111111111111:instance/i-1)"
    assert b.reason == "web-01 (arn:aws:ec2:eu-west-1:111111111111:instance/i-2): late."


def rendered(name: str, reason_text: str, error_message: str) -> str:
    srv = asset(reason_text, patch_assessed_at=days_ago(0, 2))
    late = patch(reason_text, "KB1", "critical", "missing", released_at=days_ago(20))
    err = CollectionError(source="rmm", origin="rmm/site-2", kinds=("patch",),
                          message=error_message)
    k = contract(commitment("patch_lag", PATCH))
    ev = evaluate(k, [srv, late], [err], AS_OF)
    return FORMATS[name].render(RunView.of(ev, case_info())).decode("utf-8-sig")


def test_markdown_renders_data_as_text():
    md = rendered("markdown", "srv|<b>x</b>", "# Oops\n<h1>Bad Gateway</h1>\n| a | b |")
    ours = [x for x in md.splitlines() if x.startswith("#")]
    assert all(x.startswith(("# ", "## ", "### ")) for x in ours)
    assert "Oops" not in "".join(ours)  # the error's '# Oops' is no heading of ours
    assert "<b>" not in md and "<h1>" not in md
    assert "srv\\|\\<b\\>x\\</b\\>" in md
    assert "\\# Oops Bad Gateway \\| a \\| b \\|" in md


def test_csv_cells_are_never_formulas_and_stay_on_one_line():
    text = rendered("csv", "=HYPERLINK(\"http://x\")", "boom")
    rows = list(csv.reader(io.StringIO(text)))
    subject = rows[1][4]
    assert subject == "'=HYPERLINK(\"http://x\")"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert all("\n" not in cell for row in rows for cell in row)
