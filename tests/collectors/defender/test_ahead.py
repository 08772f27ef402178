"""MSRC asked ahead while the export is read (lookups.Lookups.hint, releases.MsrcReleases.ahead):
MSRC's waits overlap the export's pages, and the records, raw pages and notes are those of the
lookups alone, in order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from defender_fake import CVE_APP, CVE_WEB, M_APP, M_WEB, NOV_RELEASE, about, subject, vuln

from clausewatch.collectors.defender.api import DefenderReader
from clausewatch.collectors.defender.lookups import Lookups
from clausewatch.collectors.defender.releases import MsrcReleases, Release

EXPORT = "/api/machines/SoftwareVulnerabilitiesByMachine"
PAGE = 2  # rows a page: the estate's 8 rows are 4 pages, CVE_WEB (a KB) on the first
LAST = 4


def records(batch: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The records in order, without ``raw_ref`` (page sizes differ)."""
    return [(e.id, e.kind, dict(e.facts)) for e in batch.evidence]


def wrap_answer(fake: Any, before: Any) -> None:
    """``before(req)`` runs ahead of the fake's answer, outside its lock (a request waiting
    there does not hold the others up)."""
    answer = fake.answer

    def answering(req: Any) -> Any:
        before(req)
        return answer(req)

    fake.answer = answering


def test_msrc_is_asked_before_the_exports_last_page_is_read(estate, collect):
    expected, _ = collect(estate())
    fake = estate()
    order: list[str] = []
    msrc_asked = threading.Event()
    waited: list[bool] = []

    def before(req: Any) -> None:
        if req.path.startswith("/cvrf/"):
            order.append("msrc")
            msrc_asked.set()
        elif req.path == EXPORT:
            n = order.count("export") + 1
            if n == LAST:  # answered once MSRC was asked (or after 3 s: the read timeout is 5)
                waited.append(msrc_asked.wait(3))
            order.append("export")

    wrap_answer(fake, before)
    batch, _ = collect(fake, export_page_size=PAGE)
    assert order.count("export") == LAST
    assert waited == [True]  # MSRC was asked while the export's pages were still being read
    assert order.index("msrc") < len(order) - order[::-1].index("export") - 1
    assert batch.errors == expected.errors == []
    assert records(batch) == records(expected)


def test_msrc_answering_only_after_the_exports_last_page_is_asked_does_not_deadlock(
        estate, collect):
    expected, _ = collect(estate())
    fake = estate()
    last_asked = threading.Event()
    exports: list[int] = []
    answered_in_time: list[bool] = []

    def before(req: Any) -> None:
        if req.path == EXPORT:
            exports.append(1)
            if len(exports) == LAST:
                last_asked.set()
        elif req.path.startswith("/cvrf/"):
            answered_in_time.append(last_asked.wait(3))

    wrap_answer(fake, before)
    batch, _ = collect(fake, export_page_size=PAGE)
    assert answered_in_time and all(answered_in_time)
    assert batch.errors == []
    assert records(batch) == records(expected)
    web = about(batch, "patch")[subject(M_WEB)][0].facts
    assert (web["cve_id"], web["released_at"]) == (CVE_WEB, NOV_RELEASE)


def saved(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))}


@pytest.mark.parametrize("msrc", ["failing", "down"])
def test_asked_ahead_or_not_the_records_raw_pages_and_notes_are_the_same(
        estate, collect, tmp_path, dead_url, monkeypatch, msrc):
    """One fake collected twice, with and without ``ahead``: the same records (raw_ref
    included), the same raw files byte for byte, the same MSRC requests. MSRC answers 500 for
    one CVE and 404 for another (``failing``), or cannot be reached (``down``)."""
    fake = estate()
    fake.rows.insert(1, vuln(M_WEB, "web01.corp.morel.fr", "WindowsServer2022", "microsoft",
                             "windows_server_2022", "10.0.20348.2700", "CVE-2026-1999",
                             "High", NOV_RELEASE, kb="5071003"))  # MSRC does not know it: 404
    kw: dict[str, Any] = {"export_page_size": 3, "retry": {"attempts": 1}}
    if msrc == "down":
        kw["msrc_url"] = f"{dead_url}/cvrf/v3.0/"

    def run(name: str) -> tuple[Any, dict[str, bytes], list[str]]:
        fake.fail(f"/cvrf/v3.0/updates('{CVE_APP}')", (500, {}))
        fake.requests.clear()
        batch, _ = collect(fake, **kw)
        (tmp_path / "out").rename(tmp_path / name)
        asked = sorted(r.path for r in fake.requests if r.path.startswith("/cvrf/"))
        return batch, saved(tmp_path / name), asked

    ahead, ahead_raw, ahead_asked = run("ahead")
    monkeypatch.setattr(MsrcReleases, "ahead", lambda self, cve: None)
    alone, alone_raw, alone_asked = run("alone")
    assert ahead.evidence == alone.evidence and ahead.errors == alone.errors == []
    assert ahead_raw == alone_raw and any("msrc" in name for name in ahead_raw) == (
        msrc == "failing")
    assert ahead_asked == alone_asked
    notes = {p.facts["cve_id"]: p.facts["release_date_note"]
             for p in about(ahead, "patch")[subject(M_WEB)]}
    if msrc == "failing":
        assert notes["CVE-2026-1999"].endswith("has no update for CVE-2026-1999")
        assert notes[CVE_WEB] is None
        app = about(ahead, "patch")[subject(M_APP)]
        assert "could not be read" in app[0].facts["release_date_note"]
    else:
        assert all("could not be read" in note for note in notes.values())


@pytest.mark.parametrize(("owner", "method"), [
    (MsrcReleases, "lookup"),  # the worker, looking the pairs up
    (MsrcReleases, "ahead"),  # the worker, asking ahead while the export is read
    (DefenderReader, "keep"),  # saving an export page raw
])
def test_a_worker_that_crashes_is_the_collectors_crash_never_lost(
        estate, collect, monkeypatch, owner, method):
    def broken(self: Any, *args: Any) -> Any:
        raise RuntimeError(f"bug in {method}")

    monkeypatch.setattr(owner, method, broken)
    batch, _ = collect(estate(), export_page_size=PAGE)
    [error] = batch.errors
    assert error.kinds == ("asset", "patch") and f"bug in {method}" in error.message
    assert batch.evidence == []


def test_hints_are_asked_ahead_once_each_until_the_pairs_are_known():
    done: list[str] = []
    asking, go_on = threading.Event(), threading.Event()

    def ahead(cve: str) -> None:
        done.append(f"ahead {cve}")
        asking.set()
        assert go_on.wait(5)

    def lookup(cve: str, kb: str) -> Release:
        done.append(f"lookup {cve}")
        return Release(None, None, cve)

    lookups = Lookups(lookup, ahead)
    for cve in ("CVE-2", "CVE-1", "CVE-2", "CVE-3"):
        lookups.hint(cve)
    worker = threading.Thread(target=lookups.run)
    worker.start()
    assert asking.wait(5)  # CVE-2 is being asked ahead
    lookups.start([("CVE-1", "KB1"), ("CVE-2", "KB2")])
    lookups.hint("CVE-4")  # too late: the pairs are known
    lookups.stop()  # started already: nothing changes
    go_on.set()
    worker.join(5)
    # the hints not asked yet when the pairs came (CVE-1, CVE-3) are dropped: the lookups
    # ask what they need, in order
    assert done == ["ahead CVE-2", "lookup CVE-1", "lookup CVE-2"]
    assert not lookups.running
    assert lookups.wait(("CVE-2", "KB2")).note == "CVE-2"


def test_stop_ends_a_worker_that_was_never_started():
    asked: list[str] = []
    lookups = Lookups(lambda cve, kb: Release(None, None, None), asked.append)
    lookups.hint("CVE-1")
    worker = threading.Thread(target=lookups.run)
    worker.start()
    lookups.stop()
    worker.join(5)
    assert not worker.is_alive() and not lookups.running
    with pytest.raises(KeyError):
        lookups.wait(("CVE-1", "KB1"))

