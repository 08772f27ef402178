"""The m365 sources entry: schema, consistency rules, credentials, clouds, clients."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from azure.identity import AzureCliCredential, ClientSecretCredential

from clausewatch.collectors.m365 import source
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.problems import InputError
from clausewatch.pipeline.sources_file import load_sources

EXAMPLE = Path(__file__).parents[3] / "policies/examples/sources-m365.yaml"
TENANT = "11111111-1111-1111-1111-111111111111"


def test_entry_schema_is_valid_draft_2020_12_and_has_no_secret_field():
    jsonschema.Draft202012Validator.check_schema(source.ENTRY_SCHEMA)
    props = source.ENTRY_SCHEMA["properties"]
    assert source.ENTRY_SCHEMA["additionalProperties"] is False
    assert not any(k in props for k in ("client_secret", "password", "certificate"))


def test_example_sources_file_loads():
    config = load_sources(EXAMPLE)
    assert [e["name"] for e in config.entries["m365"]] == ["morel-transports",
                                                            "atlantique-gcc-high"]


def test_a_literal_secret_is_rejected_with_its_line(tmp_path: Path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("version: 1\nsources:\n  m365:\n    - name: x\n      tenant_id: t1\n"
                   "      client_id: c\n      client_secret: hunter2hunter2\n")
    with pytest.raises(InputError) as exc:
        load_sources(bad)
    text = "\n".join(str(p) for p in exc.value.problems)
    assert "client_secret" in text and ":7" in text


@pytest.mark.parametrize("entry, message", [
    ({}, "say how to authenticate"),
    ({"client_id": "c", "client_secret_env": "S", "certificate_file": "c.pem"}, "only one way"),
    ({"client_secret_env": "S"}, "client_id is required"),
    ({"auth": "azure_cli", "collect": ["windows_updates"]}, "windows_updates needs intune"),
    ({"client_id": "c", "client_secret_env": "S", "certificate_password_env": "P"},
     "without certificate_file"),
])
def test_entry_problems(entry, message):
    problems = list(source.entry_problems({"name": "x", "tenant_id": "t", **entry}))
    assert any(message in m for _, m in problems)


def test_client_secret_is_read_from_env_registered_and_sent_to_the_cloud_login(context):
    env_context = type(context)(as_of=context.as_of, raw=context.raw, base_dir=context.base_dir,
                                secrets=context.secrets, env={"GRAPH_SECRET": "s3cr3t-value-42"})
    entry = {"name": "x", "tenant_id": TENANT, "client_id": "app", "client_secret_env":
             "GRAPH_SECRET", "cloud": "usgov"}
    cred = source.make_credential(entry, env_context, source.CLOUDS["usgov"].login)
    assert isinstance(cred, ClientSecretCredential)
    assert cred._authority == "https://login.microsoftonline.us"
    assert context.secrets("token=s3cr3t-value-42") == "token=[REDACTED]"


def test_missing_secret_is_a_configuration_problem_naming_the_fix(context):
    entry = {"name": "morel", "tenant_id": TENANT, "client_id": "app",
             "client_secret_env": "NOT_SET_ANYWHERE", "collect": ["entra", "backup"]}
    with pytest.raises(ConfigurationError) as info:
        source.build(entry, context)
    assert [str(p) for p in info.value.problems] == [
        "m365 source 'morel': environment variable NOT_SET_ANYWHERE (client_secret_env) is not "
        "set; export NOT_SET_ANYWHERE with the application's client secret"]


def test_cloud_presets_and_host_override(context, monkeypatch):
    monkeypatch.setattr(source, "make_credential", lambda e, c, login: AzureCliCredential())
    entry = {"name": "x", "tenant_id": TENANT, "auth": "azure_cli", "cloud": "china",
             "collect": ["entra"]}
    [entra] = source.build(entry, context, preflight=False)
    assert entra.client.request_adapter.base_url == \
        "https://microsoftgraph.chinacloudapi.cn/v1.0"
    [entra] = source.build({**entry, "graph_host": "http://127.0.0.1:9/"}, context,
                           preflight=False)
    assert entra.client.request_adapter.base_url == "http://127.0.0.1:9/v1.0"
    provider = entra.client.request_adapter._authentication_provider.access_token_provider
    assert provider._scopes == ["https://microsoftgraph.chinacloudapi.cn/.default"]


def test_token_scope_is_the_cloud_graph_resource(emulator, run_collector, credential):
    run_collector(emulator("fabrikam"), "22222222-2222-2222-2222-222222222222", "entra",
                  classify_mailboxes=False, cloud="usgov")
    assert set(credential.scopes) == {("https://graph.microsoft.us/.default",)}
