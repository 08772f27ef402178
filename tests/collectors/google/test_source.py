"""The gcp and workspace sources entries: schema, rules, credentials, build, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import google.auth.transport.requests
import jsonschema
import pytest
from google_estate import ORG, routes
from google_helpers import AS_OF, key_file
from google_stub import TOKEN, error

from clausewatch import cli
from clausewatch.collectors.base import FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.gcp import source as gcp_source
from clausewatch.collectors.gcp.iam import GcpIamCollector
from clausewatch.collectors.gcp.vms import VmCollector
from clausewatch.collectors.google.credentials import CredentialError, GoogleAuth
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.workspace import source as ws_source
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.problems import InputError
from clausewatch.core.redact import Redactor
from clausewatch.pipeline.sources_file import load_sources

EXAMPLES = Path(__file__).parents[3] / "policies/examples"
SA = "reader@ops.iam.gserviceaccount.com"


def context(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[BuildContext, Redactor]:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path / "out", redactor),
                        env=env or {}, base_dir=tmp_path, secrets=redactor), redactor


@pytest.mark.parametrize("module", [gcp_source, ws_source])
def test_entry_schemas_are_valid_and_have_no_secret_field(module):
    jsonschema.Draft202012Validator.check_schema(module.ENTRY_SCHEMA)
    text = json.dumps(module.ENTRY_SCHEMA["properties"])
    assert module.ENTRY_SCHEMA["additionalProperties"] is False
    assert not any(f'"{k}"' in text for k in ("private_key", "password", "client_secret"))


@pytest.mark.parametrize("name", ["sources-gcp.yaml", "sources-workspace.yaml"])
def test_example_sources_files_validate(name, capsys):
    assert cli.main(["validate", str(EXAMPLES / name)]) == 0
    assert load_sources(EXAMPLES / name).entries


def test_a_literal_key_in_the_sources_file_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("version: 1\nsources:\n  workspace:\n    - name: x\n      customer: C1\n"
                   "      credentials: {private_key: '-----BEGIN PRIVATE KEY-----'}\n")
    with pytest.raises(InputError) as caught:
        load_sources(bad)
    assert ":6:" in str(caught.value) and "private_key" in str(caught.value)


@pytest.mark.parametrize(("module", "entry", "message"), [
    (gcp_source, {}, "give organization_id"),
    (gcp_source, {"projects": ["prod-a"], "exclude_projects": ["x-1234"]}, "exclude_projects"),
    (gcp_source, {"organization_id": "1", "privileged_roles": ["roles/owner"],
                  "extra_privileged_roles": ["roles/editor"]}, "extra_privileged_roles"),
    (ws_source, {"customer": "my_customer"}, "give subject"),
])
def test_rules_the_schema_cannot_say(module, entry, message):
    problems = [m for _, m in module.entry_problems({"name": "x", **entry})]
    assert any(message in m for m in problems)


def test_an_unset_key_file_variable_is_a_configuration_problem(tmp_path):
    ctx, _ = context(tmp_path)
    with pytest.raises(ConfigurationError) as info:
        ws_source.build({"name": "morel", "customer": "C03az79cb",
                         "credentials": {"key_file_env": "NOPE"}}, ctx)
    assert [str(p) for p in info.value.problems] == [
        "workspace source 'morel': environment variable NOPE (credentials.key_file_env) is not "
        "set; export the variable with the path of the credentials file"]


def test_missing_application_default_credentials_is_a_configuration_problem(
        tmp_path, monkeypatch):
    from google.auth.exceptions import DefaultCredentialsError

    def no_adc(**_):
        raise DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_adc)
    ctx, _ = context(tmp_path)
    for build, entry in ((gcp_source.build, {"name": "cloud", "projects": ["prod-app-1"]}),
                         (ws_source.build, {"name": "cloud", "customer": "C03az79cb"})):
        with pytest.raises(ConfigurationError) as info:
            build(entry, ctx)
        [problem] = info.value.problems
        assert "source 'cloud': no Google Application Default Credentials found" in str(problem)
        assert "gcloud auth application-default login" in str(problem)


def test_user_credentials_cannot_delegate(tmp_path):
    path = tmp_path / "user.json"
    path.write_text(json.dumps({"type": "authorized_user", "client_id": "c",
                                "client_secret": "user-secret-value", "refresh_token": "r-tok"}))
    with pytest.raises(CredentialError, match="cannot delegate"):
        GoogleAuth(key_file=path).credentials(["scope"], subject="admin@example.com")
    ctx, redactor = context(tmp_path, {"KEY": str(path)})
    with pytest.raises(ConfigurationError, match="cannot delegate.*use a service-account key"):
        ws_source.build({"name": "m", "customer": "C1", "subject": "admin@example.com",
                         "credentials": {"key_file_env": "KEY"}}, ctx)
    assert redactor.text("x user-secret-value r-tok") == "x [REDACTED] [REDACTED]"


def test_an_adc_file_that_is_missing_is_a_configuration_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    ctx, _ = context(tmp_path)
    with pytest.raises(ConfigurationError) as info:
        gcp_source.build({"name": "c", "organization_id": ORG}, ctx)
    assert str(info.value.problems[0]).startswith(
        "gcp source 'c': no Google Application Default Credentials found; set "
        "credentials.key_file_env, or GOOGLE_APPLICATION_CREDENTIALS")


def test_impersonation_mints_its_token_at_the_iamcredentials_endpoint(stub, tmp_path):
    path = f"/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
    server = stub({f"POST {path}": {"accessToken": "ya29.impersonated",
                                    "expireTime": "2030-01-01T00:00:00Z"}})
    key, _ = key_file(tmp_path, server.url + "/token")
    creds = GoogleAuth(key_file=key, impersonate=SA, lifetime=900,
                       iamcredentials=server.url).credentials(["https://x/scope"])
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.token == "ya29.impersonated"
    (call,) = [r for r in server.requests if r["path"] == path]
    assert call["headers"]["authorization"] == f"Bearer {TOKEN}"  # the source credential
    assert json.loads(call["body"])["scope"] == ["https://x/scope"]


def keyed_entry(server: Any, tmp_path: Path, **extra: Any
                ) -> tuple[BuildContext, Redactor, dict[str, Any], str]:
    """A context with a fresh key file (token endpoint: ``server``), a gcp entry of the
    organisation signing in with it (every API at ``server``), and the key's PEM."""
    key, pem = key_file(tmp_path, server.url + "/token")
    ctx, redactor = context(tmp_path, {"KEY": str(key)})
    entry = {"name": "c", "organization_id": ORG, "credentials": {"key_file_env": "KEY"},
             "endpoints": {api: server.url for api in ("cloudresourcemanager", "iam",
                                                       "compute", "osconfig")}, **extra}
    return ctx, redactor, entry, pem


def test_build_discovers_the_hierarchy_and_reports_what_it_could_not_list(stub, tmp_path,
                                                                            monkeypatch):
    estate = routes()
    estate["GET /v3/folders?parent=folders/234567890123"] = error(403, "denied")
    server = stub(estate)
    ctx, redactor, entry, pem = keyed_entry(server, tmp_path)
    built = gcp_source.build(entry, ctx)
    kinds = sorted(type(c).__name__ for c in built)
    assert kinds == ["FailedCollector", "FailedCollector", "GcpIamCollector", "VmCollector",
                     "VmCollector"]
    failed = [next(iter(c.collect())) for c in built if isinstance(c, FailedCollector)]
    assert {(e.origin, e.kinds) for e in failed} == {
        (f"gcp/{ORG}/folders/234567890123", ("identity",)),
        (f"gcp/{ORG}/folders/234567890123", ("asset", "patch"))}
    vms = [c for c in built if isinstance(c, VmCollector)]
    assert sorted(c.origin for c in vms) == [f"gcp/{ORG}/prod-a", f"gcp/{ORG}/prod-b"]
    assert isinstance(next(c for c in built if isinstance(c, GcpIamCollector)),
                      GcpIamCollector)
    assert redactor.text(f"key: {pem}") == "key: [REDACTED]"  # the key is a known secret


@pytest.mark.parametrize("module", ["clausewatch.collectors.workspace.source",
                                    "clausewatch.collectors.gcp.source",
                                    "clausewatch.collectors.catalogue"])
def test_heavy_client_libraries_are_imported_only_when_a_collector_needs_them(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('google.cloud.compute_v1', 'google.cloud.osconfig_v1', "
            "'google.cloud.resourcemanager_v3', 'googleapiclient.discovery') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_every_refreshed_token_is_registered_with_the_redactor_and_reused(stub, tmp_path):
    """The delegated token (and the impersonated one) reach the redactor as soon as they are
    had; the credentials keep the token while it is valid (no second token request)."""
    server = stub({})
    key, _ = key_file(tmp_path, server.url + "/token")
    redactor = Redactor()
    auth = GoogleAuth(key_file=key, secrets=redactor)
    creds = auth.credentials(["https://x/scope"], subject="admin@example.com")
    request = google.auth.transport.requests.Request()
    creds.before_request(request, "GET", server.url + "/x", {})
    assert creds.token == TOKEN
    assert redactor.text(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer [REDACTED]"
    creds.before_request(request, "GET", server.url + "/y", {})
    assert sum(1 for r in server.requests if r["path"] == "/token") == 1
    path = f"/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
    server.routes[f"POST {path}"] = [{"accessToken": "ya29.impersonated-token",
                                      "expireTime": "2030-01-01T00:00:00Z"}]
    imp = GoogleAuth(key_file=key, impersonate=SA, iamcredentials=server.url,
                     secrets=redactor).credentials(["https://x/scope"])
    imp.refresh(request)
    assert redactor.text("ya29.impersonated-token") == "[REDACTED]"


def test_projects_collected_at_once_share_one_token_and_keep_their_own_errors(stub, tmp_path):
    """The VM collectors of an entry run concurrently (collect_all): the token is fetched
    once before they start, not by each thread, and a project whose Compute listing fails
    is an error on that project only; the other project's VMs are all there."""
    from clausewatch.collectors.runner import collect_all

    estate = routes()
    estate["GET /compute/v1/projects/prod-b/aggregated/instances"] = error(403, "denied")
    server = stub(estate)
    ctx, _, entry, _ = keyed_entry(server, tmp_path, collect=["vms"])
    built = [c for c in gcp_source.build(entry, ctx) if isinstance(c, VmCollector)]
    batch = collect_all(built, workers=2)
    assert sum(1 for r in server.requests if r["path"] == "/token") == 1
    b_errors = [e for e in batch.errors if e.origin == f"gcp/{ORG}/prod-b"]
    assert [(e.kinds, e.operation) for e in b_errors] == [
        (("asset", "patch"), "instances.aggregatedList")]
    assert not [e for e in batch.evidence if e.origin.startswith(f"gcp/{ORG}/prod-b")]
    a_assets = {e.facts["name"] for e in batch.evidence
                if e.kind == "asset" and e.origin.startswith(f"gcp/{ORG}/prod-a/")}
    assert a_assets == {"app-2", "legacy-1", "stale-1", "web-1", "win-app-01"}
    assert not [e for e in batch.errors if e.origin.startswith(f"gcp/{ORG}/prod-a")
                and e.origin != f"gcp/{ORG}/prod-a/asia-east1-a"]  # its unreachable zone only


def test_a_refused_token_fails_the_jobs_that_need_it_not_the_others(stub, tmp_path):
    """With a key, Resource Manager's clients sign their own JWTs (no token request), the discovery
    clients need an OAuth token: a token endpoint refusing the key fails the VM job at the
    organisation, and the IAM collector, whose reads did not need that token, keeps its
    evidence without an organisation-wide identity error over it (RFC 6749 5.2 error body)."""
    from clausewatch.collectors.runner import collect_all

    estate = routes()
    estate["POST /token"] = (400, {"error": "invalid_grant",
                                   "error_description": "Invalid JWT Signature."})
    server = stub(estate)
    ctx, _, entry, _ = keyed_entry(server, tmp_path)
    built = gcp_source.build(entry, ctx)
    assert sum(isinstance(c, GcpIamCollector) for c in built) == 1
    assert not any(isinstance(c, VmCollector) for c in built)
    batch = collect_all(built, workers=2)
    refused = [e for e in batch.errors if "invalid_grant" in e.message]
    assert [(e.origin, e.kinds, e.operation) for e in refused] == [
        (f"gcp/{ORG}", ("asset", "patch"), "credential")]
    assert any(e.kind == "identity" for e in batch.evidence)
    assert not any(e.kind in ("asset", "patch") for e in batch.evidence)


def test_the_discovery_clients_are_built_while_the_hierarchy_is_read(stub, tmp_path,
                                                                     monkeypatch):
    """IAM, Compute and OS Config clients are built on another thread, started before the
    hierarchy's first request (building one is CPU work; the requests are waits)."""
    from clausewatch.collectors.google import clients

    server = stub(routes())
    ctx, _, entry, _ = keyed_entry(server, tmp_path)
    built_on: list[tuple[str, str, int]] = []
    discovery = clients.discovery

    def recording(api: str, *args: Any, **kwargs: Any) -> Any:
        built_on.append((api, threading.current_thread().name, len(server.requests)))
        return discovery(api, *args, **kwargs)

    monkeypatch.setattr(clients, "discovery", recording)
    built = gcp_source.build(entry, ctx)
    assert sorted(api for api, _, _ in built_on) == ["compute", "iam", "osconfig"]
    assert {thread for _, thread, _ in built_on} == {"google-ahead"}
    assert min(n for _, _, n in built_on) < 3  # the hierarchy takes 3 requests or more
    assert any(isinstance(c, VmCollector) for c in built)


@pytest.mark.parametrize("collect", [["iam", "vms"], ["vms"], ["iam"]])
def test_a_client_that_cannot_be_built_ahead_fails_as_it_did_when_built_in_place(
        stub, tmp_path, monkeypatch, collect):
    """A client whose building raised makes the credential error of the job that uses it,
    raised where the client is first used: the other job's collector is kept, without an
    error over it."""
    from google.api_core.exceptions import PermissionDenied

    from clausewatch.collectors.google import clients

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("no compute client for you")

    monkeypatch.setattr(clients, "compute", refused)
    server = stub(routes())
    ctx, _, entry, _ = keyed_entry(server, tmp_path, collect=collect)
    built = gcp_source.build(entry, ctx)
    if "vms" not in collect:  # never used: never raised
        assert [type(c).__name__ for c in built if not isinstance(c, FailedCollector)] == [
            "GcpIamCollector"]
        return
    assert not any(isinstance(c, VmCollector) for c in built)
    assert any(isinstance(c, GcpIamCollector) for c in built) == ("iam" in collect)
    errors = [next(iter(c.collect())) for c in built if isinstance(c, FailedCollector)
              and c.origin == f"gcp/{ORG}"]
    assert [e.kinds for e in errors] == [gcp_source.COLLECT["vms"]]
    assert all(e.operation == "credential" and "no compute client" in e.message
               for e in errors)
