"""The Defender collector through real httpx and azure-identity against the fake
(tests/defender_fake.py): machines, the vulnerability export, MSRC release dates, faults."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from defender_fake import (
    AS_OF,
    CVE_APP,
    CVE_NOFIX,
    CVE_SSL,
    CVE_WEB,
    M_APP,
    M_DISC,
    M_LNX,
    M_OLD,
    M_WEB,
    M_WKS,
    NOV_RELEASE,
    SECRET,
    about,
    ago,
    subject,
)

EXPORT = "/api/machines/SoftwareVulnerabilitiesByMachine"


def test_machines_become_assets_with_os_tags_health_and_last_seen(estate, collect):
    fake = estate()
    batch, _ = collect(fake, tags={"customer": "morel"}, page_size=2)
    assert batch.errors == []
    assets = {s: r[-1].facts for s, r in about(batch, "asset").items()}
    assert set(assets) == {subject(m) for m in (M_WEB, M_APP, M_LNX, M_OLD, M_DISC, M_WKS)}
    web = assets[subject(M_WEB)]
    assert (web["asset_kind"], web["os"], web["os_platform"], web["name"]) == (
        "server", "windows", "WindowsServer2022", "web01.corp.morel.fr")
    assert web["tags"] == {"customer": "morel", "env": "prod", "Tier0": "true",
                           "defender_group": "Servers", "defender_health": "Active",
                           "defender_onboarding": "Onboarded", "defender_tags": "Tier0 | env=prod"}
    assert web["patch_assessed_at"] == web["last_seen"] == ago(hours=2)
    assert assets[subject(M_APP)]["tags"]["env"] == "prod"  # key:value
    assert (assets[subject(M_LNX)]["os"], assets[subject(M_LNX)]["asset_kind"]) == (
        "linux", "server")
    assert (assets[subject(M_WKS)]["os"], assets[subject(M_WKS)]["asset_kind"]) == (
        "windows", "workstation")
    # inactive: its patch data dates from its last report, 20 days ago
    assert assets[subject(M_OLD)]["patch_assessed_at"] == ago(days=20)
    assert assets[subject(M_OLD)]["health_status"] == "Inactive"
    # not onboarded: no patch data, and the reason
    disc = assets[subject(M_DISC)]
    assert disc["patch_assessed_at"] is None
    assert "not onboarded" in disc["patch_data_note"] and "CanBeOnboarded" in disc[
        "patch_data_note"]
    # $top=2 and $skip pages (no next link, as the API answers with $top): 6 machines, 4 pages
    pages = fake.seen("/api/machines")
    assert [(r.query["$top"], r.query.get("$skip")) for r in pages] == [
        (["2"], None), (["2"], ["2"]), (["2"], ["4"]), (["2"], ["6"])]


def test_machine_next_links_are_followed_when_given(estate, collect):
    fake = estate(machine_links=True)
    batch, _ = collect(fake, page_size=4)
    assert batch.errors == []
    assert len(about(batch, "asset")) == 6
    assert [r.query.get("$skip") for r in fake.seen("/api/machines")] == [None, ["4"]]


def test_vulnerabilities_become_patch_records_with_detection_and_release_clocks(estate,
                                                                                collect):
    fake = estate()
    batch, _ = collect(fake, export_page_size=3)
    assert batch.errors == []
    patches = {s: {p.facts["cve_id"]: p for p in r} for s, r in about(batch, "patch").items()}
    web = patches[subject(M_WEB)][CVE_WEB]
    f = web.facts
    assert (f["update_id"], f["severity"], f["state"], f["cves"]) == (
        "KB5071001", "critical", "missing", [CVE_WEB])
    assert f["first_seen_at"] == datetime(2026, 11, 15, 20, 0, tzinfo=UTC)  # no zone: UTC
    assert f["released_at"] == NOV_RELEASE and f["release_date_source"] == "MSRC CVRF 2026-Nov"
    assert f["release_date_note"] is None
    assert web.observed_at == ago(hours=2)  # the machine's last report, not the run
    assert web.raw_ref.startswith("raw/defender/defender/morel/software-vulnerabilities-")
    # a KB MSRC's documents do not list: no release date, and why
    app = patches[subject(M_APP)][CVE_APP].facts
    assert app["released_at"] is None and app["first_seen_at"] == ago(days=2)
    assert app["release_date_note"] == (
        "no release date: MSRC's CVRF documents for CVE-2026-1002 (2026-Nov) do not list "
        "KB5071999 as a vendor fix")
    # no KB: the package, no release date, and why
    ssl = patches[subject(M_LNX)][CVE_SSL].facts
    assert (ssl["update_id"], ssl["package"], ssl["fixing_kb"]) == (
        CVE_SSL, "openssl openssl 3.0.2", None)
    assert "no KB fixes it" in ssl["release_date_note"]
    # no security update exists: not an outstanding patch
    nofix = patches[subject(M_LNX)][CVE_NOFIX].facts
    assert (nofix["state"], nofix["fix_available"]) == ("not_applicable", False)
    # software without a CVE gives no record; not-onboarded machines none either
    assert subject(M_WKS) not in patches and subject(M_DISC) not in patches
    # the export was read in pages of 3 through its next links
    pages = fake.seen(EXPORT)
    assert len(pages) == 3 and pages[0].query["pageSize"] == ["3"]
    token = json.loads(base64.b64decode(pages[2].query["$skiptoken"][0]))
    assert token == {"LineStoppedAt": 6}
    # MSRC: one updates() call per CVE with a KB, one CVRF document for the month
    assert len(fake.seen("/cvrf/v3.0/cvrf/2026-Nov")) == 1


def test_a_429_with_retry_after_is_waited_out_then_succeeds(estate, collect, clock):
    fake = estate()
    fake.fail_page(EXPORT, 2, 429, {"Retry-After": "7"})
    batch, _ = collect(fake, export_page_size=3)
    assert batch.errors == []
    assert clock.sleeps == [7.0]
    assert len(about(batch, "patch")[subject(M_WEB)]) == 1


def test_throttling_beyond_the_bound_is_a_patch_error_for_the_tenant(estate, collect, clock):
    fake = estate()
    fake.fail(EXPORT, *[(429, {"Retry-After": "30"})] * 3)
    batch, _ = collect(fake, retry={"attempts": 3})
    [error] = batch.errors
    assert (error.origin, error.kinds, error.operation) == (
        "defender/morel", ("patch",), "software-vulnerabilities")
    assert "HTTP 429 throttled" in error.message and "gave up after 3 attempt(s)" in error.message
    assert error.retryable and clock.sleeps == [30.0, 30.0]
    # the machines are still inventoried, their patch state unknown (and why)
    web = about(batch, "asset")[subject(M_WEB)][-1].facts
    assert web["patch_assessed_at"] is None
    assert web["patch_data_note"].startswith("the vulnerability export could not be read")
    assert about(batch, "patch") == {}


def test_a_machine_page_500_covers_the_whole_inventory(estate, collect):
    fake = estate()
    fake.fail_page("/api/machines", 2, 500)
    batch, _ = collect(fake, page_size=2, retry={"attempts": 1})
    [error] = batch.errors
    assert (error.origin, error.kinds, error.operation) == (
        "defender/morel", ("asset", "patch"), "machines")
    assert "HTTP 500 server error" in error.message
    assert batch.evidence == []


def test_an_unreachable_api_is_an_error_for_both_kinds(estate, collect, dead_url):
    fake = estate()
    batch, _ = collect(fake, api_host=dead_url, retry={"attempts": 1})
    [error] = batch.errors
    assert error.kinds == ("asset", "patch") and "cannot connect to 127.0.0.1" in error.message


def test_a_refused_secret_is_a_token_error_and_never_leaks(estate, collect):
    fake = estate()
    batch, redactor = collect(fake, secret="wrong-secret-value-1")
    [error] = batch.errors
    assert error.kinds == ("asset", "patch")
    assert "sign-in refused" in error.message and "AADSTS7000215" in error.message
    assert "wrong-secret-value-1" not in json.dumps(error.details) + error.message


def test_a_missing_secret_variable_fails_the_tenant_only(estate, collect):
    batch, _ = collect(estate(), secret=None)
    [error] = batch.errors
    assert (error.operation, error.kinds) == ("credential", ("asset", "patch"))
    assert "MOREL_MDE_SECRET (client_secret_env) is not set" in error.message


def test_one_token_is_used_until_it_expires_and_never_reaches_raw_pages(estate, collect,
                                                                        tmp_path):
    fake = estate()
    batch, redactor = collect(fake, page_size=2, export_page_size=2)
    assert batch.errors == []
    assert fake.issued == 1  # one sign-in for 4 + 4 pages: the token is kept to its expiry
    assert len(fake.seen("/api/machines")) + len(fake.seen(EXPORT)) == 8
    text = "".join(p.read_text() for p in (tmp_path / "out").rglob("*.json"))
    assert "eyJ0eXAi.mde-1.sig" not in text and SECRET not in text
    assert redactor("Bearer eyJ0eXAi.mde-1.sig") != "Bearer eyJ0eXAi.mde-1.sig"


def test_no_machines_is_an_empty_inventory_not_an_error(defender, collect):
    fake = defender()  # /api/machines answers 404: "no recent machines"
    batch, _ = collect(fake)
    assert batch.errors == [] and batch.evidence == []


def test_msrc_unreachable_leaves_release_dates_unknown_with_the_reason(estate, collect,
                                                                        dead_url):
    fake = estate()
    batch, _ = collect(fake, msrc_url=f"{dead_url}/cvrf/v3.0/", retry={"attempts": 1})
    assert batch.errors == []  # not a collection error: the records say it
    web = about(batch, "patch")[subject(M_WEB)][0].facts
    assert web["released_at"] is None
    assert web["release_date_note"].startswith("no release date: the MSRC CVRF API could not "
                                               "be read (msrc-cvrf: cannot connect to")
    assert AS_OF  # the run still stamps the machine list


def test_by_default_the_largest_documented_pages_are_asked_for(estate, collect):
    """$top 10,000 machines and pageSize 200,000 export rows (the documented maxima): the
    fewest calls under Defender's 100 calls a minute (30 for the export)."""
    fake = estate()
    batch, _ = collect(fake)
    assert not batch.errors
    (machines,) = fake.seen("/api/machines")
    assert machines.query["$top"] == ["10000"]
    (export,) = fake.seen(EXPORT)
    assert export.query["pageSize"] == ["200000"]


def test_an_export_failing_midway_keeps_the_pages_read_and_no_patch_record(estate, collect,
                                                                           tmp_path):
    fake = estate()
    fake.fail_page(EXPORT, 2, 400)
    batch, _ = collect(fake, export_page_size=3, retry={"attempts": 1})
    [error] = batch.errors
    assert (error.kinds, error.operation) == (("patch",), "software-vulnerabilities")
    assert about(batch, "patch") == {}
    # the page read before the failure is still saved raw (it is what Defender answered)
    saved = sorted(p.name for p in (tmp_path / "out").rglob("software-vulnerabilities-*"))
    assert saved == ["software-vulnerabilities-0001.json"]


def test_a_clean_export_page_is_kept_as_defender_sent_it(estate, collect, tmp_path):
    """No secret in the export page: the raw file is its bytes as received (the fake's
    ``json.dumps``, not the re-laid-out form) and ``raw_ref``'s digest is theirs."""
    import hashlib

    batch, _ = collect(estate())
    ref = next(iter(about(batch, "patch").values()))[0].raw_ref
    rel, _, digest = ref.partition("#sha256=")
    data = (tmp_path / "out" / rel).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    assert data == json.dumps(json.loads(data)).encode() and b"\n" not in data


def test_each_release_date_ref_holds_the_entry_its_record_rests_on(estate, collect, tmp_path):
    """Two CVEs of one CVRF document, both with a release: the document is read once (at the
    first CVE looked up), yet each record's ``release_date_ref`` is an extract holding the
    document's release date and that record's CVE listing its KB as a vendor fix."""
    fake = estate()
    app = fake.msrc_docs["2026-Nov"]["Vulnerability"][1]
    app["Remediations"].append({"Description": {"Value": "5071999"}, "Type": 2})  # KB_UNKNOWN
    batch, _ = collect(fake)
    assert batch.errors == []
    cited = [p for rs in about(batch, "patch").values() for p in rs
             if p.facts.get("release_date_ref")]
    assert {p.facts["cve_id"] for p in cited} == {CVE_WEB, CVE_APP}
    for record in cited:
        rel = record.facts["release_date_ref"].partition("#")[0]
        extract = json.loads((tmp_path / "out" / rel).read_text())
        assert extract["extract_of"] == "cvrf/2026-Nov"
        assert extract["DocumentTracking"]["InitialReleaseDate"] == "2026-11-10T18:00:00Z"
        (entry,) = [v for v in extract["Vulnerability"] if v["CVE"] == record.facts["cve_id"]]
        kbs = {r["Description"]["Value"] for r in entry["Remediations"] if r["Type"] == 2}
        assert record.facts["fixing_kb"].removeprefix("KB") in kbs
    assert len(fake.seen("/cvrf/v3.0/cvrf/2026-Nov")) == 1


def test_a_cve_id_that_is_neither_a_cve_nor_empty_is_an_error_not_a_clean_device(estate,
                                                                                 collect):
    """A row whose ``cveId`` is a number or blank is not read as "no vulnerability"."""
    fake = estate()
    web = next(r for r in fake.rows if r["deviceId"] == M_WEB)
    fake.rows += [dict(web, id="num", cveId=1003), dict(web, id="blank", cveId="  ")]
    batch, _ = collect(fake)
    [error] = batch.errors
    assert error.kinds == ("patch",) and error.operation == "timestamps"
    assert "2 record(s) left out: row 'num' on" in error.message
    assert "cveId 1003 is neither a CVE id nor empty" in error.message
    assert CVE_WEB in {p.facts["cve_id"] for p in about(batch, "patch")[subject(M_WEB)]}
