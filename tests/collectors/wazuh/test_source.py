"""The ``wazuh`` source type: its entry schema, its rules, the example file, credentials."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from wazuh_fake import AS_OF, INDEXER_PASSWORD, PASSWORD, entry

from clausewatch.collectors.base import FailedCollector
from clausewatch.collectors.catalogue import CATALOGUE, BuildContext, source_module
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.runner import collect_all
from clausewatch.collectors.wazuh import source
from clausewatch.collectors.wazuh.auth import WazuhAuth, jwt_lifetime
from clausewatch.collectors.wazuh.collector import WazuhCollector
from clausewatch.core.redact import Redactor
from clausewatch.pipeline.sources_file import load_sources

EXAMPLE = Path(source.__file__).parents[2] / "policies/examples/sources-wazuh.yaml"
ENV = {"WAZUH01_PASSWORD": PASSWORD, "WAZUH01_INDEXER_PASSWORD": INDEXER_PASSWORD}


def context(tmp_path: Path, env: dict[str, str]) -> BuildContext:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path, redactor), env=env,
                        base_dir=tmp_path, secrets=redactor)


def test_the_source_is_catalogued():
    assert CATALOGUE["wazuh"] == "clausewatch.collectors.wazuh.source"
    assert source_module("wazuh").ENTRY_SCHEMA is source.ENTRY_SCHEMA


def test_the_schema():
    good = entry("https://wazuh:55000", "https://wazuh-indexer:9200",
                 tls={"ca_bundle": "ca.pem"}, vulnerabilities="indexer",
                 tags={"customer": "morel"}, asset_kind_by_group={"pc": "workstation"},
                 retry={"attempts": 3})
    jsonschema.validate(good, source.ENTRY_SCHEMA)
    for bad in ({"vulnerabilities": "both"}, {"password": "inline"}, {"page_limit": 0},
                {"tags": {"env": 1}}, {"indexer": {"url": "https://x:9200"}},
                {"token_lifetime_seconds": 10}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, **bad}, source.ENTRY_SCHEMA)


def test_entry_problems_beyond_the_schema():
    problems = dict((tuple(w), m) for w, m in source.entry_problems(
        {**entry("http://wazuh.corp:55000", "http://idx.corp:9200")}))
    assert "plain http to another machine" in problems[("url",)]
    assert "plain http to another machine" in problems[("indexer", "url")]
    problems = dict((tuple(w), m) for w, m in source.entry_problems(
        entry("https://wazuh:55000", vulnerabilities="indexer")))
    assert "needs the indexer" in problems[("indexer",)]


@pytest.mark.parametrize("missing", ["WAZUH01_PASSWORD", "WAZUH01_INDEXER_PASSWORD"])
def test_a_missing_password_fails_this_server_only(tmp_path, missing):
    env = {k: v for k, v in ENV.items() if k != missing}
    [collector] = source.build(entry("https://wazuh:55000", "https://idx:9200"),
                               context(tmp_path, env))
    assert isinstance(collector, FailedCollector)
    [error] = collect_all([collector]).errors
    assert (error.origin, error.kinds) == ("wazuh/wazuh01", ("asset", "patch"))
    assert f"environment variable {missing} (" in error.message


def test_build_registers_both_passwords(tmp_path):
    ctx = context(tmp_path, ENV)
    [collector] = source.build(entry("https://wazuh:55000", "https://idx:9200"), ctx)
    assert isinstance(collector, WazuhCollector)
    assert isinstance(collector.session.client.auth, WazuhAuth)
    assert collector.session.client.auth.url == "https://wazuh:55000/security/user/authenticate"
    assert {PASSWORD, INDEXER_PASSWORD} <= set(ctx.secrets.known)  # type: ignore[attr-defined]
    collector.session.close()


def test_the_jwt_lifetime_is_read_from_its_claims():
    from wazuh_fake import jwt
    assert jwt_lifetime(jwt(1, 900)) == 900
    assert jwt_lifetime("not-a-jwt") is None


def test_the_example_sources_file_loads():
    config = load_sources(EXAMPLE)
    assert [e["name"] for e in config.entries["wazuh"]] == ["wazuh-paris", "wazuh-lyon"]
