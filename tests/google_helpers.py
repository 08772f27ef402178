"""Real Google clients aimed at the local server (tests/google_stub.py), and a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google_stub import GoogleStub

from clausewatch.collectors.google import clients
from clausewatch.collectors.google.directory import Directory
from clausewatch.collectors.google.endpoints import APIS, Endpoints
from clausewatch.collectors.google.pages import PageSink
from clausewatch.collectors.google.retry import RetryBudget, RetrySettings
from clausewatch.collectors.raw import RawRecorder

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


class FakeTime:
    """Stands for ``time`` inside google-api-core's retry loop: sleeping advances a clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def endpoints_for(server: GoogleStub) -> Endpoints:
    return Endpoints({api: server.url for api in APIS})


def retry_settings(attempts: int = 5, budget: int = 100, timeout: float = 120.0) -> RetrySettings:
    return RetrySettings(attempts=attempts, timeout_seconds=timeout, initial_backoff=0.5,
                         max_backoff=4.0, budget=RetryBudget(budget))


def directory_for(server: GoogleStub, raw: RawRecorder, retry: RetrySettings | None = None,
                  customer: str = "C03az79cb") -> Directory:
    service = clients.discovery("admin", "directory_v1", AnonymousCredentials(),
                                endpoints_for(server), "admin", 10.0)
    return Directory(service, PageSink(raw, "workspace", f"workspace/{customer}"),
                     retry or retry_settings(), customer=customer)


def gcp_iam(server: GoogleStub, raw: RawRecorder, *, workspace: bool = True,
            retry: RetrySettings | None = None) -> Any:
    """The IAM collector of the estate's organisation, its hierarchy discovered first."""
    from clausewatch.collectors.gcp.hierarchy import Discovery
    from clausewatch.collectors.gcp.iam import GcpIamCollector
    from clausewatch.collectors.gcp.roles import RoleBook
    from clausewatch.collectors.gcp.workspace_link import WorkspaceLink

    retry = retry or retry_settings()
    endpoints = endpoints_for(server)
    creds = AnonymousCredentials()
    rm = clients.resource_manager(creds, endpoints)
    sink = PageSink(raw, "gcp", "gcp/123456789012")
    tree = Discovery(rm, sink, retry).organisation("123456789012")
    iam = clients.discovery("iam", "v1", creds, endpoints, "iam", 10.0)
    link = None
    if workspace:
        directory = Directory(clients.discovery("admin", "directory_v1", creds, endpoints,
                                                "admin", 10.0), sink, retry,
                              customer="C03az79cb")
        link = WorkspaceLink(directory, frozenset({"example.com"}))
    return GcpIamCollector(tree, rm, RoleBook(iam, sink, retry), sink, retry, AS_OF,
                           workspace=link)


def vm_collector(server: GoogleStub, raw: RawRecorder, project: str = "prod-a") -> Any:
    from clausewatch.collectors.gcp.vms import VmCollector

    endpoints = endpoints_for(server)
    creds = AnonymousCredentials()
    return VmCollector("123456789012", project, clients.compute(creds, endpoints, 10.0),
                       clients.os_config(creds, endpoints, 10.0),
                       PageSink(raw, "gcp.compute", f"gcp/123456789012/{project}"),
                       retry_settings(), AS_OF, tags={"customer": "acme"})


def key_file(folder: Path, token_uri: str) -> tuple[Path, str]:
    """A real service-account key file (a fresh RSA key) whose token endpoint is ``token_uri``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = folder / "collector-key.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "ops", "private_key_id": "k1",
        "private_key": pem, "client_email": "clausewatch@ops.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri}))
    return path, pem
