"""The ``veeam`` source type: its entry schema, its rules, the example file, a missing password."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from veeam_fake import AS_OF, entry

from clausewatch.collectors.catalogue import CATALOGUE, BuildContext, source_module
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.veeam import source
from clausewatch.collectors.veeam.collector import VeeamCollector
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.redact import Redactor
from clausewatch.pipeline.sources_file import load_sources

EXAMPLE = Path(source.__file__).parents[2] / "policies/examples/sources-veeam.yaml"


def context(tmp_path: Path, env: dict[str, str]) -> BuildContext:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path, redactor), env=env,
                        base_dir=tmp_path, secrets=redactor)


def test_the_source_is_catalogued():
    assert CATALOGUE["veeam"] == "clausewatch.collectors.veeam.source"
    assert source_module("veeam").ENTRY_SCHEMA is source.ENTRY_SCHEMA


def test_the_schema_takes_the_kit_connection_and_retry_keys():
    good = entry("https://vbr01.corp.example:9419", tls={"ca_bundle": "vbr01.pem"},
                 retry={"attempts": 3}, api_version="1.3-rev2", tags={"customer": "morel"},
                 lookback_days=120)
    jsonschema.validate(good, source.ENTRY_SCHEMA)
    for bad in ({"api_version": "v1"}, {"password": "inline"}, {"lookback_days": 0},
                {"tags": {"env": 1}}, {"tls": {"verify": "no"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, **bad}, source.ENTRY_SCHEMA)


def test_entry_problems_beyond_the_schema():
    problems = dict((tuple(w), m) for w, m in source.entry_problems(entry(
        "http://vbr01.corp.example:9419", server_timezone="Europe/Pragu",
        tls={"verify": False, "ca_bundle": "x.pem"})))
    assert "is plain http to another machine" in problems[("url",)]
    assert "contradict" in problems[("tls",)]
    assert "not an IANA time zone" in problems[("server_timezone",)]


@pytest.mark.parametrize("url", ["https://vbr:9419", "https://vbr:9419/", "https://vbr:9419/api",
                                 "https://vbr:9419/api/v1/"])
def test_the_api_base_is_the_server_url_with_api(url):
    assert source.api_base(url) == "https://vbr:9419/api/"


def test_a_missing_password_is_a_configuration_problem(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        source.build(entry("https://vbr01:9419"), context(tmp_path, {}))
    assert [str(p) for p in info.value.problems] == [
        "veeam source 'vbr01': environment variable VBR01_PASSWORD (password_env) is not set; "
        "export VBR01_PASSWORD with the password of CORP\\svc-clausewatch"]


def test_build_sends_the_api_version_and_registers_the_password(tmp_path):
    ctx = context(tmp_path, {"VBR01_PASSWORD": "s3cret-vbr-pw"})
    [collector] = source.build(entry("https://vbr01:9419", api_version="1.3-rev2",
                                     lookback_days=30, tags={"customer": "morel"}), ctx,
                                     preflight=False)
    assert isinstance(collector, VeeamCollector)
    assert (collector.origin, collector.lookback_days) == ("veeam/vbr01", 30)
    client = collector.session.client
    assert client.headers["x-api-version"] == "1.3-rev2"
    assert str(client.base_url) == "https://vbr01:9419/api/"
    assert "s3cret-vbr-pw" in ctx.secrets.known  # type: ignore[attr-defined]
    collector.session.close()


def test_the_example_sources_file_loads():
    config = load_sources(EXAMPLE)
    names = [e["name"] for e in config.entries["veeam"]]
    assert names == ["vbr-paris", "vbr-lyon"]
