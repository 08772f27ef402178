"""Veeam's shapes across API revisions, served from the fixtures shaped from its OpenAPI
documents (tests/fixtures/veeam: 1.1-rev0, 1.2-rev1, 1.3-rev2)."""

from __future__ import annotations

import copy

from veeam_fake import about, collect, fixture, subject

from clausewatch.core.clock import parse_utc

DC = "6bf39221-c79b-49ff-8537-26a37b0a9080"
SQL = "c05dfa57-f59a-4e90-8065-b7f5d3276406"
AGENT = "e35ef047-8cfa-4c3e-979e-de2e5399142f"
FILES = "508ae9cb-cc94-4705-8dda-5522a9ed60da"
SCAN = "34b77de9-d5e2-4752-aff8-929bc428e80f"
B_VM, B_AGENT = "f3b0fbc5-01cf-4464-976a-4881e6eda067", "00d9832b-0b4e-45fe-a284-0683e6c0e44c"


def data(name: str) -> list:
    return fixture(name)["data"]


def agent_object() -> dict:
    return data("backup_objects_1.3-rev2.json")[1]


def test_1_1_rev0_wrapped_includes_job_sessions_and_object_restore_points(veeam, clock,
                                                                          tmp_path):
    fake = veeam(versions={"1.1-rev0"}, cap=2)
    fake.doc("serverTime", fixture("server_time.json"))
    fake.list("jobs", data("jobs_1.1-rev0.json"))
    fake.list("jobs/states", data("jobs_states_page1.json") + data("jobs_states_page2.json"))
    fake.list("backups", data("backups.json"))
    fake.list(f"backups/{B_VM}/objects", data("backup_objects_of_vm_backup.json"))
    fake.list(f"backups/{B_AGENT}/objects", [agent_object()])
    fake.list("sessions", data("sessions_1.1-rev0.json"))
    points = copy.deepcopy(data("restore_points.json"))
    for p in points:  # 1.1-rev0's model has no sessionId, type or malwareStatus
        del p["sessionId"], p["type"], p["malwareStatus"]
    fake.list("objectRestorePoints", points)
    batch, _ = collect(fake.base, tmp_path, clock, api_version="1.1-rev0")
    assert batch.errors == []
    assets = {s: r[-1].facts for s, r in about(batch, "asset").items()}
    assert assets[subject("dc01")]["selected_in_job"] is True  # {"inventoryObject": {...}}
    assert assets[subject(f"job:{SQL}")]["tags"]["veeam_job_status"] == "disabled"
    assert len(fake.seen("/api/v1/jobs/states")) == 2  # paged on total, two by two
    [run] = about(batch, "backup")[subject(f"job:{DC}")]  # "Job" with activityId
    assert (run.facts["outcome"], run.facts["backup_type"]) == ("success", "Job")
    dc01 = about(batch, "backup")[subject("dc01")]
    assert [p.facts["session_id"] for p in dc01] == [
        "c924ee2f-1197-4b37-8de3-009c1977f347", None]  # by span; the older one: unknown
    assert dc01[0].facts["completed_at"] == parse_utc("2026-11-20T21:01:26.520805Z")
    assert fake.seen("/api/v1/restorePoints") == []
    assert not [r for r in fake.requests if r.path.endswith("/taskSessions")]


def test_1_2_rev1_sessions_pages_and_surebackup_tasks(veeam, clock, tmp_path):
    fake = veeam(cap=4)
    fake.doc("serverTime", fixture("server_time.json"))
    fake.list("jobs", data("jobs_1.2-rev1.json"))
    fake.list("jobs/states", data("jobs_states_page1.json") + data("jobs_states_page2.json"))
    fake.list("backups", data("backups.json"))
    fake.list(f"backups/{B_VM}/objects", data("backup_objects_of_vm_backup.json"))
    fake.list(f"backups/{B_AGENT}/objects", [agent_object()])
    fake.list("sessions", data("sessions_page1.json") + data("sessions_page2.json"))
    fake.list("sessions/a330c612-07b2-4c3a-adbf-0007f904bbfd/taskSessions",
              data("task_sessions_surebackup.json"))
    fake.list("sessions/4c5f14a6-b883-4b83-891a-d520809e4284/taskSessions", [])
    fake.list("restorePoints", data("restore_points.json"))
    batch, _ = collect(fake.base, tmp_path, clock)
    assert batch.errors == []
    assert [r.query["skip"] for r in fake.seen("/api/v1/sessions")] == [["0"], ["4"]]
    tests = about(batch, "restore_test")
    dc01 = tests[subject("dc01")]
    assert sorted(t.facts["session_type"] for t in dc01) == ["RestoreVm", "SureBackup"]
    [sure] = [t.facts for t in dc01 if t.facts["session_type"] == "SureBackup"]
    assert sure["task_id"] == "3464ca27-8def-4849-a69f-23f0d0d136e7"  # Restore, not Antivirus
    assert sure["completed_at"] == parse_utc("2026-11-15T00:40:33.796154Z")  # Prague, +01:00
    assert sure["duration_minutes"] == 42.3
    # "fs01" (the session's name) is the agent fs01.corp.example; Warning is partial
    [flr] = tests[subject("fs01.corp.example")]
    assert (flr.facts["outcome"], flr.facts["veeam_result"]) == ("partial", "Warning")
    assert subject("sql01") not in tests  # the instant recovery is still running
    assets = {s: r[-1].facts for s, r in about(batch, "asset").items()}
    assert assets[subject(f"job:{DC}")]["selection_rules"] == ["Folder Infrastructure"]
    assert assets[subject("sql01")]["in_backups"] is False  # explicit include, never backed up
    assert [b.facts["outcome"] for b in about(batch, "backup")[subject(f"job:{SQL}")]] == [
        "failed"]
    assert subject("sql01") not in about(batch, "backup")


def test_1_3_rev2_capitalised_enums_new_job_shapes_and_bare_pagination(veeam, clock, tmp_path):
    fake = veeam(versions={"1.3-rev2"})
    fake.doc("serverTime", fixture("server_time_1.3-rev2.json"))
    fake.list("jobs", data("jobs_1.3-rev2.json"))
    fake.doc("jobs/states", fixture("jobs_states_1.3-rev2.json"))  # {"total", "count"} only
    fake.list("backups", data("backups_1.3-rev2.json"))
    for obj in data("backup_objects_1.3-rev2.json"):
        fake.doc(f"backups/{obj['backupId']}/objects", {
            "data": [obj], "pagination": {"total": 1, "count": 1, "skip": None, "limit": None}})
    fake.list("sessions", data("sessions_1.3-rev2.json"))
    fake.list("restorePoints", data("restore_points.json"))
    batch, _ = collect(fake.base, tmp_path, clock, api_version="1.3-rev2",
                       server_timezone=None)
    assert batch.errors == []
    assets = {s: r[-1].facts for s, r in about(batch, "asset").items()}
    assert subject(f"job:{SCAN}") not in assets  # a content scan is not a backup job
    assert assets[subject(f"job:{AGENT}")]["tags"]["veeam_job_status"] == "disabled"
    assert assets[subject(f"job:{DC}")]["tags"]["veeam_job_status"] == "stopped"
    assert assets[subject(f"job:{FILES}")]["tags"]["veeam_job_type"] == "filebackup"
    kinds = {f["name"]: f["asset_kind"] for f in assets.values()
             if f["asset_kind"] != "backup_job"}
    assert kinds == {"dc01": "vm", "fs01.corp.example": "server",
                     "\\\\fs01.corp.example\\finance": "file_share"}
    agent = assets[subject("fs01.corp.example")]
    assert agent["selected_in_job"] and agent["last_run_failed"] is True
    assert agent["tags"]["veeam_job"] == "Agent Backup - Physical Servers"
    assert "restore_test" not in {r.kind for r in batch.evidence}  # SureBackupContentScan
    [run] = about(batch, "backup")[subject(f"job:{DC}")]
    assert run.facts["outcome"] == "success"
    assert fake.seen("/api/oauth2/token")[0].headers["x-api-version"] == "1.3-rev2"
