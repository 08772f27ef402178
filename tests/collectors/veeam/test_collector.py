"""The Veeam collector through real httpx against the fake server (tests/veeam_fake.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from veeam_fake import (
    AS_OF,
    J_AGENT,
    J_DC,
    J_EXCH,
    J_SQL,
    J_WEB,
    PASSWORD,
    about,
    ago,
    collect,
    fixture,
    subject,
)

from clausewatch.core.clock import parse_utc
from clausewatch.core.configuration import ConfigurationError


def job(job_id: str) -> str:
    return subject(f"job:{job_id}")


def outcomes(records):
    return [r.facts["outcome"] for r in records]


def test_jobs_and_their_protected_objects_are_assets_tagged_by_job(estate, clock, tmp_path):
    fake = estate()
    batch, _ = collect(fake.base, tmp_path, clock, tags={"customer": "morel"})
    assert batch.errors == []
    assets = {s: r[-1].facts for s, r in about(batch, "asset").items()}
    assert {s for s, f in assets.items() if f["asset_kind"] == "backup_job"} == {
        job(J_DC), job(J_AGENT), job(J_SQL), job(J_WEB), job(J_EXCH)}
    kinds = {s: f["asset_kind"] for s, f in assets.items() if f["asset_kind"] != "backup_job"}
    assert kinds == {subject("dc01"): "vm", subject("dc02"): "vm", subject("ns01"): "vm",
                     subject("web01"): "vm", subject("fs01.corp.example"): "server",
                     subject("sql01"): "vm", subject("sql02"): "vm", subject("exch01"): "vm"}
    dc01 = assets[subject("dc01")]
    assert dc01["tags"] == {"customer": "morel", "veeam_server": "vbr01",
                            "veeam_job": "Backup Job - Domain Controllers",
                            "veeam_platform": "vmware"}
    assert dc01["in_backups"] and dc01["selected_in_job"]
    # the agent job is not in /jobs before 1.3: known from /jobs/states and /backups
    assert assets[job(J_AGENT)]["listed_in"] == ["backups", "jobs/states"]
    assert assets[job(J_SQL)]["tags"]["veeam_job_status"] == "disabled"
    assert assets[job(J_DC)]["selection_rules"] == ["Folder Infrastructure"]
    # never backed up: an explicit include of a job that never ran, and a member of a tag
    # include seen only through its failed task: both assets, neither in a backup
    assert assets[subject("exch01")]["in_backups"] is False
    assert assets[subject("sql02")]["selected_in_job"] is False
    assert assets[subject("sql02")]["tags"]["veeam_job"] == "Backup Job - SQL"
    assert all(r.origin == "veeam/vbr01" and r.observed_at == AS_OF for r in batch.evidence)


def test_sessions_and_restore_points_give_backups_with_the_veeam_result(estate, clock,
                                                                        tmp_path):
    batch, _ = collect(estate().base, tmp_path, clock)
    backups = about(batch, "backup")
    assert outcomes(backups[job(J_DC)]) == ["success"] * 3
    agent = backups[job(J_AGENT)]
    assert outcomes(agent) == ["partial"] * 3  # Warning is reported as such
    assert {r.facts["veeam_result"] for r in agent} == {"Warning"}
    assert agent[-1].facts["veeam_message"] == "Changed block tracking is disabled"
    assert outcomes(backups[job(J_SQL)]) == ["failed"]
    # per object: the object's own task outcome for a session that did not succeed
    fs01 = backups[subject("fs01.corp.example")]
    assert outcomes(fs01) == ["partial"] * 3
    assert fs01[-1].facts["completed_at"] == ago(6.8)
    assert fs01[-1].facts["restore_point_id"] == "rp-fs01-0"
    # a point without sessionId takes the outcome of the job's run that spans it
    ns01 = backups[subject("ns01")]
    assert outcomes(ns01) == ["success"] * 3 and ns01[-1].facts["session_id"] == "dc-0"
    # a failed task with no point is a failed backup of that object
    assert outcomes(backups[subject("sql01")]) == ["failed"]
    assert backups[subject("sql02")][0].facts["task_id"] == "t-sql02"
    assert subject("exch01") not in backups
    assert backups[subject("web01")][-1].facts["completed_at"] == ago(25)
    ids = [r.id for r in batch.evidence]
    assert len(ids) == len(set(ids))


def test_surebackup_and_restore_sessions_give_restore_tests_with_duration(estate, clock,
                                                                          tmp_path):
    batch, _ = collect(estate().base, tmp_path, clock)
    tests = about(batch, "restore_test")
    [dc01] = tests[subject("dc01")]
    # offset-less times (Veeam's SureBackup example) placed in the server's zone
    # completed when the VM's own test ended; the duration is the whole session's
    assert dc01.facts["completed_at"] == ago(days=30) + timedelta(minutes=37)
    assert dc01.facts["duration_minutes"] == 42.0  # endTime - creationTime
    assert dc01.facts["task_duration_minutes"] == 35.0
    assert (dc01.facts["outcome"], dc01.facts["method"]) == ("success", "automated")
    assert dc01.facts["session_type"] == "SureBackup"
    # the content scan's Antivirus tasks are not restore tests
    assert subject("fs01.corp.example") not in tests
    assert subject("dc01 [scan]") not in tests
    web01 = tests[subject("web01")]
    assert outcomes(web01) == ["success", "failed"]
    assert web01[0].facts["duration_minutes"] == 36.6
    assert "Mount failed" in web01[1].facts["note"]
    assert subject("sql01") not in tests  # the instant recovery is still running


def test_a_401_mid_paging_forces_a_token_refresh(estate, clock, tmp_path):
    fake = estate(cap=4)  # 16 sessions: pages at skip 0, 4, 8, 12
    fake.expire_tokens_at("sessions", 4)
    batch, redactor = collect(fake.base, tmp_path, clock)
    assert batch.errors == []
    assert fake.grants() == ["password", "refresh_token"]
    refresh = fake.seen("/api/oauth2/token")[1]
    assert refresh.form["refresh_token"] == ["eyJ.refresh-1.sig"]  # the one first issued
    pages = [(r.query["skip"][0], r.headers["authorization"]) for r in
             fake.seen("/api/v1/sessions")]
    assert pages == [("0", "Bearer eyJ.access-1.sig"), ("4", "Bearer eyJ.access-1.sig"),
                     ("4", "Bearer eyJ.access-2.sig"), ("8", "Bearer eyJ.access-2.sig"),
                     ("12", "Bearer eyJ.access-2.sig")]
    assert len(about(batch, "restore_test")) == 4  # every page read
    assert all(r.headers["x-api-version"] == "1.2-rev1" for r in fake.requests)
    query = fake.seen("/api/v1/sessions")[0].query
    assert query["createdAfterFilter"] == ["2026-08-13T06:00:00Z"]  # 100 days
    assert (query["orderColumn"], query["orderAsc"]) == (["CreationTime"], ["true"])
    assert {PASSWORD, "eyJ.access-2.sig", "eyJ.refresh-2.sig"} <= set(redactor.known)
    assert len(fake.seen("/api/oauth2/logout")) == 1


def test_a_server_unreachable_at_start_is_a_configuration_problem(dead_url, clock, tmp_path):
    """Connection refused on the first request (the login), after the bounded retries: the
    sources file points at nothing, which no night will cure (issue 11: exit 7, not 4)."""
    with pytest.raises(ConfigurationError) as info:
        collect(dead_url, tmp_path, clock, retry={"attempts": 3})
    [problem] = info.value.problems
    assert str(problem).startswith("veeam source 'vbr01': cannot reach 127.0.0.1 (connection "
                                   "refused); check url")
    assert len(clock.sleeps) == 2  # the back-off ran on the fake clock


def test_an_unsupported_api_version_says_so(estate, clock, tmp_path):
    fake = estate(versions={"1.3-rev2"})
    with pytest.raises(ConfigurationError) as info:
        collect(fake.base, tmp_path, clock)
    [problem] = info.value.problems
    assert "does not support api_version 1.2-rev1" in str(problem)
    assert "The specified API version is not supported" in str(problem)
    assert "set api_version to a revision this server supports" in str(problem)


def test_offset_less_times_without_a_known_zone_fail_closed(estate, clock, tmp_path):
    fake = estate()  # serverTime of 1.2-rev1: an offset, no IANA zone
    batch, _ = collect(fake.base, tmp_path, clock, server_timezone=None)
    [error] = batch.errors
    assert (error.kinds, error.operation) == (("restore_test",), "timestamps")
    assert error.message.startswith("4 record(s) left out: session 'sb-dc01' endTime")
    assert "set server_timezone" in error.message
    assert "restore_test" not in {r.kind for r in batch.evidence if "sb-" in r.id}
    assert len(about(batch, "backup")[subject("dc01")]) == 3  # offsets: unaffected


def test_the_iana_zone_of_server_time_places_offset_less_times(estate, clock, tmp_path):
    fake = estate()
    fake.doc("serverTime", fixture("server_time_1.3-rev2.json"))  # ianaTimeZoneId
    batch, _ = collect(fake.base, tmp_path, clock, server_timezone=None)
    assert batch.errors == []
    [dc01] = about(batch, "restore_test")[subject("dc01")]
    assert dc01.facts["completed_at"] == ago(days=30) + timedelta(minutes=37)


def test_a_server_timezone_the_server_contradicts_is_not_used(estate, clock, tmp_path):
    batch, _ = collect(estate().base, tmp_path, clock, server_timezone="Europe/London")
    [error] = batch.errors
    assert error.kinds == ("restore_test",)
    assert "server_timezone Europe/London is UTC+00:00" in error.message


def test_a_failed_sessions_listing_bears_on_backups_and_restore_tests(estate, clock, tmp_path):
    fake = estate()
    fake.fail("sessions", 403)
    batch, _ = collect(fake.base, tmp_path, clock)
    errors = {e.operation: e for e in batch.errors}
    assert errors["sessions"].kinds == ("backup", "restore_test")
    assert "HTTP 403 access denied" in errors["sessions"].message
    assert errors["restore-points"].kinds == ("backup",)
    assert {r.kind for r in batch.evidence} == {"asset"}  # the inventory is whole
    assert fake.seen("/api/v1/restorePoints") == []


def test_a_failed_surebackup_task_listing_bears_on_restore_tests_only(estate, clock, tmp_path):
    fake = estate()
    fake.fail("sessions/sb-dc02/taskSessions", 500, 500, 500, 500, 500)
    batch, _ = collect(fake.base, tmp_path, clock)
    [error] = batch.errors
    assert (error.kinds, error.operation) == (("restore_test",), "task-sessions")
    assert "gave up after 5 attempt(s)" in error.message
    tests = about(batch, "restore_test")
    assert subject("dc02") not in tests and subject("dc01") in tests
    assert len(about(batch, "backup")[subject("fs01.corp.example")]) == 3


def test_a_failed_inventory_listing_leaves_no_evidence_of_any_kind(estate, clock, tmp_path):
    fake = estate()
    fake.fail(f"backups/{'00d9832b-0b4e-45fe-a284-0683e6c0e44c'}/objects", 403)
    batch, _ = collect(fake.base, tmp_path, clock)
    [error] = batch.errors
    assert (error.kinds, error.operation) == (("asset", "backup", "restore_test"),
                                              "backup-objects")
    assert batch.evidence == []


def test_raw_pages_are_saved_and_named_without_secrets(estate, clock, tmp_path):
    batch, _ = collect(estate().base, tmp_path, clock)
    refs = {r.raw_ref.split("#")[0] for r in batch.evidence if r.raw_ref}
    assert "raw/veeam/veeam/vbr01/restore-points-0001.json" in refs
    assert all((tmp_path / ref).is_file() for ref in refs)
    for page in (tmp_path / "raw").rglob("*.json"):
        text = page.read_text()
        assert PASSWORD not in text and "eyJ.access" not in text


def test_times_with_seven_fractional_digits_and_offsets_are_utc(estate, clock, tmp_path):
    batch, _ = collect(estate().base, tmp_path, clock)
    [point] = [r for r in about(batch, "backup")[subject("web01")]]
    assert point.facts["completed_at"] == parse_utc("2026-11-20T05:00:00Z")
    assert point.facts["completed_at"].tzinfo is not None


def test_a_stopped_session_without_an_end_time_is_an_error_not_dropped(estate, clock,
                                                                       tmp_path):
    """A failed run that says it is Stopped but gives no endTime is reported: dropped, the
    restore point it made would be taken for a success (no session accounting for it)."""
    fake = estate()
    sessions = fake.lists["/api/v1/sessions"]
    web = next(s for s in sessions if s["id"] == "web-1")
    web.update(endTime=None, result={"result": "Failed", "message": "", "isCanceled": False})
    batch, _ = collect(fake.base, tmp_path, clock)
    [error] = batch.errors
    assert (error.kinds, error.operation) == (("backup",), "timestamps")
    assert error.message == ("1 record(s) left out: session 'web-1' is Stopped but has no "
                             "endTime (None): when it finished, and so what it accounts for, "
                             "is unknown")
    assert len(about(batch, "backup")[subject("web01")]) == 1  # the point is still listed
