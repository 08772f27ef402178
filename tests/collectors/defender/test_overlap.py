"""MSRC lookups beside the records (collectors/defender/lookups.py): records whose release is
known are built while MSRC is still answering, the others wait in their places; failures are
what they were (a note for MSRC, a crash never swallowed)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from defender_fake import CVE_APP, CVE_WEB, M_APP, M_OLD, M_WEB, NOV_RELEASE, about, subject

from clausewatch.collectors.defender import collector as collector_module
from clausewatch.collectors.defender.lookups import Lookups
from clausewatch.collectors.defender.releases import Release

EXPORT = "/api/machines/SoftwareVulnerabilitiesByMachine"


def records(batch: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The records in order, without ``raw_ref`` (its digest names the fake's port)."""
    return [(e.id, e.kind, dict(e.facts)) for e in batch.evidence]


def test_records_are_built_while_msrc_answers_and_the_waiting_ones_keep_their_place(
        estate, collect, monkeypatch):
    expected, _ = collect(estate())  # MSRC answering at once
    fake = estate()
    built = threading.Event()  # every record that needs no release is built
    answered_after_build: list[bool] = []
    msrc = fake._msrc

    def slow_msrc(rest: str) -> Any:
        answered_after_build.append(built.wait(10))
        return msrc(rest)

    fake._msrc = slow_msrc  # type: ignore[method-assign]
    place = collector_module._Collection._place_waiting

    def placing(self: Any, releases: Lookups) -> None:
        assert any(r is None for r in self.out)  # records are waiting for their release
        built.set()
        place(self, releases)

    monkeypatch.setattr(collector_module._Collection, "_place_waiting", placing)
    batch, _ = collect(fake)
    assert answered_after_build and all(answered_after_build)  # MSRC was still answering
    assert batch.errors == expected.errors == []
    assert records(batch) == records(expected)  # same records, same order
    web = about(batch, "patch")[subject(M_WEB)][0].facts
    assert (web["cve_id"], web["released_at"]) == (CVE_WEB, NOV_RELEASE)


def test_an_msrc_error_while_records_wait_is_a_release_note_not_an_error(estate, collect):
    fake = estate()
    fake.fail(f"/cvrf/v3.0/updates('{CVE_APP}')", (500, {}))
    batch, _ = collect(fake, retry={"attempts": 1})
    assert batch.errors == []
    app = about(batch, "patch")[subject(M_APP)][0].facts
    assert app["released_at"] is None
    assert app["release_date_note"].startswith("no release date: the MSRC CVRF API could not "
                                               "be read")
    web = about(batch, "patch")[subject(M_WEB)][0].facts  # the next CVE is still looked up
    assert web["released_at"] == NOV_RELEASE


def test_a_failed_export_asks_msrc_nothing(estate, collect):
    fake = estate()
    fake.fail_page(EXPORT, 1, 400)
    batch, _ = collect(fake, retry={"attempts": 1})
    [error] = batch.errors
    assert error.operation == "software-vulnerabilities"
    assert about(batch, "patch") == {} and subject(M_OLD) in about(batch, "asset")
    assert [r for r in fake.requests if r.path.startswith("/cvrf/")] == []


def test_lookups_run_in_order_and_publish_each_result_as_it_comes():
    asked: list[tuple[str, str]] = []
    gate = threading.Event()

    def lookup(cve: str, kb: str) -> Release:
        asked.append((cve, kb))
        if cve == "CVE-2":
            gate.wait(5)
        return Release(None, None, f"{cve} {kb}")

    lookups = Lookups(lookup)
    lookups.start([("CVE-1", "KB1"), ("CVE-2", "KB2")])
    assert ("CVE-1", "KB1") in lookups and ("CVE-3", "KB3") not in lookups
    worker = threading.Thread(target=lookups.run)
    worker.start()
    assert lookups.wait(("CVE-1", "KB1")).note == "CVE-1 KB1"
    assert lookups.ready(("CVE-2", "KB2")) is None  # still being looked up
    gate.set()
    assert lookups.wait(("CVE-2", "KB2")).note == "CVE-2 KB2"
    worker.join(5)
    assert asked == [("CVE-1", "KB1"), ("CVE-2", "KB2")]
    with pytest.raises(KeyError):
        lookups.wait(("CVE-3", "KB3"))


def test_a_failed_lookup_is_raised_again_to_whoever_waits():
    def lookup(cve: str, kb: str) -> Release:
        raise RuntimeError(f"cannot look {cve} up")

    lookups = Lookups(lookup)
    lookups.start([("CVE-1", "KB1")])
    with pytest.raises(RuntimeError):
        lookups.run()
    with pytest.raises(RuntimeError, match="cannot look CVE-1 up"):
        lookups.wait(("CVE-1", "KB1"))


def test_an_unhashable_update_id_is_no_kb_and_the_other_pairs_are_looked_up(estate, collect):
    fake = estate()
    odd = dict(fake.rows[1], id="odd", cveId="CVE-2026-1003", recommendedSecurityUpdateId=[
        "5071001"])
    fake.rows.append(odd)
    batch, _ = collect(fake)
    assert batch.errors == []
    facts = {p.facts["cve_id"]: p.facts for p in about(batch, "patch")[subject(M_WEB)]}
    assert facts["CVE-2026-1003"]["fixing_kb"] is None  # not a KB number: no lookup
    assert facts[CVE_WEB]["released_at"] == NOV_RELEASE
    assert [r.path for r in fake.requests if "updates(" in r.path] == [
        f"/cvrf/v3.0/updates('{CVE_WEB}')", f"/cvrf/v3.0/updates('{CVE_APP}')"]
