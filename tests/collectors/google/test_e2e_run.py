"""``clausewatch run`` on a two-project organisation and its Workspace, subject by subject.

The real client libraries talk to the local server; the credentials are a real service-account
key file (generated here) whose ``token_uri`` is the server's ``/token``: the key is named by an
environment variable, the Directory is read by domain-wide delegation (a JWT grant with
``sub``); the Cloud client libraries send a self-signed JWT, as google-auth does for service
accounts.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from google_estate import CUSTOMER, ORG, routes
from google_helpers import key_file
from google_stub import TOKEN

from clausewatch.cli import main

CONTRACT = Path(__file__).parents[2] / "fixtures/google/contract.yaml"
VM = "//compute.googleapis.com/projects/{}/zones/{}/instances/{}"
G = f"gcp:{ORG}:"


@pytest.fixture
def estate(stub, tmp_path, monkeypatch):
    server = stub(routes())
    path, pem = key_file(tmp_path, server.url + "/token")
    monkeypatch.setenv("EXAMPLE_GOOGLE_KEY", str(path))
    endpoints = "\n".join(f"        {api}: {server.url}" for api in
                          ("cloudresourcemanager", "iam", "compute", "osconfig", "admin"))
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"""version: 1
sources:
  gcp:
    - name: example-cloud
      organization_id: "{ORG}"
      credentials: {{key_file_env: EXAMPLE_GOOGLE_KEY}}
      workspace: {{customer: {CUSTOMER}, domains: [example.com], subject: admin@example.com}}
      endpoints:
{endpoints}
      retry: {{attempts: 4, initial_backoff_seconds: 0.5, max_backoff_seconds: 2}}
  workspace:
    - name: example
      customer: {CUSTOMER}
      subject: admin@example.com
      credentials: {{key_file_env: EXAMPLE_GOOGLE_KEY}}
      service_accounts: ["svc-*@example.com"]
      endpoints: {{admin: {server.url}}}
      retry: {{attempts: 4, initial_backoff_seconds: 0.5}}
""")
    return server, sources, pem


def test_run_on_a_two_project_organisation_verdicts_subject_by_subject(estate, tmp_path):
    server, sources, pem = estate
    out = tmp_path / "out"
    code = main(["run", "--policy", str(CONTRACT), "--sources", str(sources),
                 "--as-of", "2026-11-22T06:00:00Z", "--out", str(out)])
    assert code == 3  # commitments are breached
    doc = json.loads((out / "results.json").read_text())
    status = {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
              for c in doc["commitments"]}
    reason = {c["id"]: {r["subject"]: r["reason"] for r in c["results"]}
              for c in doc["commitments"]}
    verdict = {c["id"]: c["status"] for c in doc["commitments"]}

    assert status["GCP-ADMINS-MFA"] == {
        G + "user:alice@example.com": "compliant",  # organisation admin, 2SV enforced
        G + "user:bob@example.com": "breached",  # owner through a nested group, no 2SV
        G + "user:dave@example.com": "compliant",  # custom role with setIamPolicy, until 2027
        G + "user:erin@example.com": "compliant",  # owner through a group
        G + "user:frank@example.com": "breached",  # editor on the folder only
        G + "user:mallory@gmail.com": "no_evidence",  # outside the Workspace domain
        G + "principal://iam.googleapis.com/locations/global/workforcePools/corp-pool/subject/"
            "carol@partner.example": "no_evidence",  # federated: the IdP's second factor
        f"error:gcp:gcp/{ORG}/prod-b:identity:getIamPolicy projects/prod-b": "no_evidence",
        # prod-b's policy: 403, holders unknown
    }  # gina (expired), carol (suspended), the deleted user and the service account: out
    assert "outside the Workspace domain(s) example.com" in \
        reason["GCP-ADMINS-MFA"][G + "user:mallory@gmail.com"]
    assert "via group sec-admins@example.com > sec-oncall@example.com" in \
        reason["GCP-ADMINS-MFA"][G + "user:bob@example.com"]
    assert verdict["GCP-ADMINS-MFA"] == "breached"

    assert status["WORKSPACE-2SV"] == {
        "alice@example.com": "compliant", "bob@example.com": "breached",
        "dave@example.com": "compliant", "erin@example.com": "compliant",
        "frank@example.com": "breached",
    }  # carol is suspended, svc-backup a service account

    prod = status["PROD-VM-CRITICAL"]
    assert prod == {
        VM.format("prod-a", "us-central1-a", "web-1"): "breached",  # detected 10 days ago
        VM.format("prod-a", "us-central1-a", "app-2"): "compliant",  # detected 2 days ago
        VM.format("prod-a", "us-central1-a", "legacy-1"): "no_evidence",  # no agent
        VM.format("prod-a", "us-central1-a", "stale-1"): "no_evidence",  # 12-day-old data
        VM.format("prod-a", "europe-west1-b", "win-app-01"): "breached",  # released 10 d ago
        VM.format("prod-b", "us-central1-b", "api-1"): "no_evidence",  # OS Config 403
        f"error:gcp.compute:gcp/{ORG}/prod-a/asia-east1-a:asset+patch[server]:"
        "instances.aggregatedList": "no_evidence",  # zone unreachable
    }  # batch-old is TERMINATED
    why = reason["PROD-VM-CRITICAL"]
    assert "no OS Config inventory" in why[VM.format("prod-a", "us-central1-a", "legacy-1")]
    assert "12.0 days old" in why[VM.format("prod-a", "us-central1-a", "stale-1")]
    assert "HTTP 403" in why[VM.format("prod-b", "us-central1-b", "api-1")]

    # the credentials: a token from the key file, the Directory by domain-wide delegation
    token_calls = [r for r in server.requests if r["path"] == "/token"]
    claims = []
    for call in token_calls:
        assertion = parse_qs(call["body"].decode())["assertion"][0]
        payload = assertion.split(".")[1]
        claims.append(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    assert "admin@example.com" in {c.get("sub") for c in claims}
    assert {c["iss"] for c in claims} == {"clausewatch@ops.iam.gserviceaccount.com"}
    api_calls = [r for r in server.requests if r["path"] != "/token"]
    assert api_calls and all(r["headers"].get("authorization", "").startswith("Bearer ")
                             for r in api_calls)
    directory = [r for r in api_calls if r["path"].startswith("/admin/directory/")]
    assert directory and all(r["headers"]["authorization"] == f"Bearer {TOKEN}"
                             for r in directory)  # the delegated token, not a self-signed JWT
    # every record traces to a raw page in the output folder; no secret reaches the outputs
    lines = [json.loads(x) for x in (out / "evidence.jsonl").read_text().splitlines()]
    refs = {x["raw_ref"].split("#")[0] for x in lines if x.get("raw_ref")}
    assert refs and all((out / ref).is_file() for ref in refs)
    body = pem.splitlines()[1]
    assert not any(body in p.read_text() or TOKEN in p.read_text()
                   for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl",
                                                                          ".html", ".md"))
