"""The Wazuh collector against the local fakes: agents, inventory, vulnerabilities, faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from wazuh_fake import (
    AS_OF,
    INDEXER_PASSWORD,
    PASSWORD,
    about,
    ago,
    collect,
    entry,
    result,
    subject,
)


def run(server, idx, tmp_path: Path, clock, **kw):
    return collect(entry(server.base, idx.base if idx else None, **kw), tmp_path, clock)


def test_agents_are_assets_with_os_groups_and_kind(estate, tmp_path, clock):
    server, idx = estate(cap=3)  # 8 agents: three pages of agents
    batch, _ = run(server, idx, tmp_path, clock)
    assets = {s: e[0] for s, e in about(batch, "asset").items()}
    assert sorted(assets) == [subject(f"00{i}") for i in range(8)]
    assert [int(r.query["offset"][0]) for r in server.seen("agents")] == [0, 3, 6]
    assert "lastKeepAlive" in server.seen("agents")[0].query["select"][0]
    kinds = {s.rsplit(":", 1)[1]: a.facts["asset_kind"] for s, a in assets.items()}
    assert kinds == {"000": "server", "001": "server", "002": "server", "003": "workstation",
                     "004": "server", "005": "server", "006": "server", "007": "server"}
    web = assets[subject("001")]
    assert web.facts["os"] == "ubuntu" and web.facts["os_family"] == "linux"
    assert web.facts["groups"] == ["default", "web"]
    assert web.facts["tags"]["wazuh_group_web"] == "true"
    assert web.facts["tags"]["wazuh_groups"] == "default | web"
    assert web.origin == "wazuh/wazuh01/agents/001"
    assert web.facts["packages_count"] == 7
    dc = assets[subject("002")]
    assert (dc.facts["os"], dc.facts["os_family"]) == ("windows", "windows")
    assert dc.facts["hotfixes"] == ["KB5000210", "KB5000211", "KB5000212"]
    manager = assets[subject("000")]
    assert manager.facts["last_seen"] == AS_OF  # 9999-12-31 means "now"
    assert manager.facts["wazuh_manager"] is True
    assert not batch.errors or all(e.origin == "wazuh/wazuh01/agents/006"
                                   for e in batch.errors)


def test_vulnerabilities_from_the_indexer_become_patch_records(estate, tmp_path, clock):
    server, idx = estate(index_cap=2)  # 6 documents: three search_after pages
    batch, _ = run(server, idx, tmp_path, clock)
    searches = idx.requests
    assert len(searches) == 3
    assert "search_after" not in searches[0].body and searches[1].body["search_after"]
    assert searches[0].query["allow_no_indices"] == ["false"]
    assert searches[0].body["track_total_hits"] is True
    patches = about(batch, "patch")
    [nginx, curl] = patches[subject("001")]
    assert nginx.facts["update_id"] == "CVE-2026-1001 nginx"
    assert (nginx.facts["severity"], nginx.facts["state"]) == ("high", "missing")
    assert nginx.facts["released_at"] == ago(days=40)  # published_at: the release clock
    assert nginx.facts["first_seen_at"] == ago(days=10)  # detected_at: the detection clock
    assert nginx.facts["fixed_in"] == "1.1"
    assert curl.facts["severity"] == "unrated" and curl.facts["released_at"] is None
    assert nginx.observed_at == ago(hours=0.02)  # the agent's last keep-alive
    assert subject("006") not in patches  # its inventory failed: nothing judged on it


def test_a_500_on_one_agents_page_fails_that_agent_only(estate, tmp_path, clock):
    server, idx = estate()
    batch, _ = run(server, idx, tmp_path, clock, retry={"attempts": 2})
    [error] = batch.errors
    assert (error.origin, error.kinds, error.operation) == (
        "wazuh/wazuh01/agents/006", ("patch",), "packages")
    assert "HTTP 500" in error.message and "injected HTTP 500" in error.message
    assert "gave up after 2 attempt(s)" in error.message
    assets = {s: e[0] for s, e in about(batch, "asset").items()}
    assert assets[subject("006")].facts["patch_assessed_at"] is None
    assert assets[subject("001")].facts["patch_assessed_at"] == ago(hours=0.02)


def test_never_connected_and_disconnected_agents(estate, tmp_path, clock):
    server, idx = estate()
    batch, _ = run(server, idx, tmp_path, clock)
    assets = {s: e[0] for s, e in about(batch, "asset").items()}
    new = assets[subject("005")].facts
    assert new["patch_assessed_at"] is None and new["os"] is None
    assert new["patch_data_note"].startswith("agent never connected (registered ")
    assert not [r for r in server.requests if "/005/" in r.path]  # nothing asked for it
    old = assets[subject("004")].facts
    assert old["patch_assessed_at"] == ago(days=20) == old["last_seen"]
    assert old["patch_data_note"] == f"agent disconnected, last keep-alive " \
        f"{ago(days=20).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    lab = assets[subject("007")].facts
    assert lab["patch_assessed_at"] is None
    assert "no package or hotfix inventory" in lab["patch_data_note"]


def test_the_47_server_api_gives_vulnerabilities_and_the_scan_clock(estate, tmp_path, clock):
    server, idx = estate(version="4.7.5")
    batch, _ = run(server, None, tmp_path, clock)
    assert not idx.requests  # auto: 4.7 reads the server API
    patches = about(batch, "patch")
    [nginx, curl] = patches[subject("001")]
    assert nginx.facts["released_at"] == ago(days=40).replace(hour=0, minute=0)  # a date
    assert nginx.facts["first_seen_at"] == ago(days=10)
    assert nginx.facts["vulnerability_source"] == "server_api"
    assert curl.facts["severity"] == "unrated"  # Untriaged
    assets = {s: e[0] for s, e in about(batch, "asset").items()}
    # the earlier of the last keep-alive and the end of the last scan (partial, 1 h ago)
    assert assets[subject("001")].facts["patch_assessed_at"] == ago(hours=1)
    assert nginx.observed_at == ago(hours=1)


def test_obsolete_47_entries_are_not_applicable(estate, tmp_path, clock):
    server, _ = estate(version="4.7.5")
    items = server.lists["/vulnerability/001"]
    items[0]["status"] = "OBSOLETE"
    items[1]["status"] = "PENDING"
    batch, _ = run(server, None, tmp_path, clock)
    [nginx, curl] = about(batch, "patch")[subject("001")]
    assert (nginx.facts["state"], curl.facts["state"]) == ("not_applicable", "missing")


def test_token_expiry_mid_paging_forces_one_refresh(estate, tmp_path, clock):
    server, idx = estate(cap=3)
    server.expire_tokens_at("agents", 3)
    batch, redactor = run(server, idx, tmp_path, clock)
    assert server.logins() == 2
    assert len(about(batch, "asset")) == 8
    offsets = [int(r.query["offset"][0]) for r in server.seen("agents")]
    assert offsets == [0, 3, 3, 6]  # the page refused with 401 was asked again, once
    login = server.seen("security/user/authenticate")[0]
    assert login.method == "POST" and login.query["raw"] == ["true"]
    assert PASSWORD in redactor.known  # type: ignore[attr-defined]
    assert INDEXER_PASSWORD in redactor.known  # type: ignore[attr-defined]


def test_an_unknown_agent_is_a_failed_item_not_an_empty_list(estate, tmp_path, clock):
    server, idx = estate()
    server.docs["/syscollector/001/packages"] = result([], 0, [{
        "error": {"code": 4000, "message": "Permission denied: Resource type: agent:id"},
        "id": ["001"]}])
    batch, _ = run(server, idx, tmp_path, clock)
    errors = {e.origin: e for e in batch.errors}
    error = errors["wazuh/wazuh01/agents/001"]
    assert "001: 4000 Permission denied" in error.message
    assert subject("001") not in about(batch, "patch")


def test_unreachable_server_is_one_error_for_everything(dead_url, tmp_path, clock):
    batch, _ = collect(entry(dead_url, retry={"attempts": 1}), tmp_path, clock)
    [error] = batch.errors
    assert (error.origin, error.kinds) == ("wazuh/wazuh01", ("asset", "patch"))
    assert "cannot connect to 127.0.0.1" in error.message
    assert not batch.evidence


def test_an_indexer_failure_fails_every_agents_patch_state(estate, tmp_path, clock):
    server, idx = estate()
    idx.faults = [503, 503]
    batch, _ = run(server, idx, tmp_path, clock, retry={"attempts": 2})
    errors = {e.origin: e for e in batch.errors}
    assert errors["wazuh/wazuh01"].kinds == ("patch",)
    assert not about(batch, "patch")


def test_no_vulnerability_index_is_an_error_not_an_empty_estate(estate, tmp_path, clock):
    server, idx = estate()
    idx.docs = []
    batch, _ = run(server, idx, tmp_path, clock)
    error = {e.origin: e for e in batch.errors}["wazuh/wazuh01"]
    assert "HTTP 404" in error.message and "index_not_found_exception" in error.message


def test_a_short_index_read_is_an_error(estate, tmp_path, clock):
    server, idx = estate(index_cap=2)
    idx.docs = idx.docs[:5]
    original = idx.answer

    def shrink(req):  # the second page is served empty while the total says 5
        status, body, kind = original(req)
        if req.body.get("search_after"):
            body["hits"]["hits"] = []
        return status, body, kind
    idx.answer = shrink  # type: ignore[method-assign]
    batch, _ = run(server, idx, tmp_path, clock, retry={"attempts": 1})
    error = {e.origin: e for e in batch.errors}["wazuh/wazuh01"]
    assert "an empty page after 2 of the 5 hits announced" in error.message


def edited(idx, edit):
    """``idx`` answering every search through ``edit(body)``."""
    original = idx.answer

    def answer(req):
        status, body, kind = original(req)
        if status == 200:
            edit(body)
        return status, body, kind
    idx.answer = answer  # type: ignore[method-assign]


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda b: b["_shards"].update(failed=1), "1 shard(s) failed: partial results"),
    (lambda b: b.update(timed_out=True), "the search timed out: partial results"),
    (lambda b: b["_shards"].update(failed=2**64), "_shards.failed is 1.8446744073709552e+19"),
    (lambda b: b["_shards"].update(failed="0"), "_shards.failed is '0', not a count"),
    (lambda b: b.pop("_shards"), "_shards.failed is None, not a count"),
    (lambda b: b.pop("timed_out"), "timed_out is None, not a boolean"),
])
def test_partial_or_unsaid_index_results_fail_the_patch_state(estate, tmp_path, clock, edit,
                                                                reason):
    server, idx = estate()
    edited(idx, edit)
    batch, _ = run(server, idx, tmp_path, clock, retry={"attempts": 1})
    error = {e.origin: e for e in batch.errors}["wazuh/wazuh01"]
    assert reason in error.message and error.kinds == ("patch",)
    assert not about(batch, "patch")
    assert about(batch, "asset")  # the agents are still read


def test_48_without_an_indexer_says_what_to_add(estate, tmp_path, clock):
    server, _ = estate()
    batch, _ = run(server, None, tmp_path, clock)
    error = {e.origin: e for e in batch.errors}["wazuh/wazuh01"]
    assert "add indexer.url" in error.message and error.kinds == ("patch",)


def test_the_token_lifetime_comes_from_the_jwt(estate, tmp_path, clock):
    """A JWT valid 30 s (exp - nbf) is always within the 60 s refresh margin: a fresh login
    before every call, where the default 900 s would have needed one login."""
    server, idx = estate(lifetime=30)
    run(server, idx, tmp_path, clock)
    calls = len([r for r in server.requests if r.path != "/security/user/authenticate"])
    assert server.logins() == calls
