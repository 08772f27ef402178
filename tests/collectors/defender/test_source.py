"""The ``defender`` source type: its entry schema, its rules, the example file, the clouds."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from clausewatch.collectors.catalogue import CATALOGUE, source_module
from clausewatch.collectors.defender import source
from clausewatch.collectors.defender.clouds import CLOUDS
from clausewatch.pipeline.sources_file import load_sources

EXAMPLE = Path(source.__file__).parents[2] / "policies/examples/sources-defender.yaml"
GOOD = {"name": "morel", "tenant_id": "5f0c1d7e-2b1a-4c3d-9e8f-0a1b2c3d4e5f",
        "client_id": "8a2b", "client_secret_env": "MOREL_MDE_SECRET"}


def problems(**kw):
    return {tuple(w): m for w, m in source.entry_problems({**GOOD, **kw})}


def test_the_source_is_catalogued():
    assert CATALOGUE["defender"] == "clausewatch.collectors.defender.source"
    assert source_module("defender").ENTRY_SCHEMA is source.ENTRY_SCHEMA


def test_the_schema_refuses_secrets_and_out_of_range_pages():
    jsonschema.validate({**GOOD, "cloud": "gcc", "page_size": 10000, "tags": {"a": "b"},
                         "retry": {"attempts": 3}, "tls": {"ca_bundle": "ca.pem"}},
                        source.ENTRY_SCHEMA)
    for bad in ({"client_secret": "inline"}, {"page_size": 10001},
                {"export_page_size": 200001}, {"cloud": "germany"}, {"url": "https://x"},
                {"scope": "https://api.securitycenter.microsoft.com"},
                {"release_dates": "catalog"}, {"client_secret_env": "MY-SECRET"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**GOOD, **bad}, source.ENTRY_SCHEMA)


def test_entry_problems_beyond_the_schema():
    no_auth = {k: v for k, v in GOOD.items() if k != "client_secret_env"}
    assert list(source.entry_problems(no_auth))[0][1].startswith("say how to authenticate")
    assert "only one way" in problems(certificate_file="c.pem")[("certificate_file",)]
    china = problems(cloud="china")
    assert "give api_host" in china[("api_host",)] and "scope" in china[("scope",)]
    assert problems(cloud="china", api_host="https://mde.example.cn",
                    scope="https://mde.example.cn/.default") == {}
    assert "plain http" in problems(api_host="http://mde.example.com")[("api_host",)]


def test_the_clouds_use_the_documented_hosts():
    assert CLOUDS["global"].scope == "https://api.securitycenter.microsoft.com/.default"
    assert (CLOUDS["gcc"].api, CLOUDS["gcc"].login) == (
        "https://api-gcc.securitycenter.microsoft.us", "https://login.microsoftonline.com")
    assert (CLOUDS["gcc_high"].api, CLOUDS["gcc_high"].login) == (
        "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us")
    assert CLOUDS["china"].login == "https://login.chinacloudapi.cn"


def test_the_example_sources_file_is_valid():
    loaded = load_sources(EXAMPLE)
    names = [e["name"] for e in loaded.entries["defender"]]
    assert names == ["morel", "federal"]
