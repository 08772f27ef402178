"""Microsoft 365 credentials: one token per expiry, tokens masked, login_host honoured, and the
start-up checks that make a misconfigured tenant exit 7 instead of reading as missing evidence."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError
from kiota_http.middleware.options import RetryHandlerOption
from virtual_clock import VirtualClock

from clausewatch.collectors.m365 import source
from clausewatch.collectors.m365.retry import BoundedRetryHandler
from clausewatch.collectors.m365.token_cache import CachedCredential
from clausewatch.collectors.retry_budget import RetryBudget
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.redact import Redactor

SCOPE = "https://graph.microsoft.com/.default"
CONTOSO = "11111111-1111-1111-1111-111111111111"


class StaticCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("static-token", 4102444800)


class CountingCredential:
    """Like AzureCliCredential: no cache, a new token on every call."""

    def __init__(self, clock: VirtualClock, lifetime: int = 3600) -> None:
        self.clock, self.lifetime, self.calls = clock, lifetime, 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(f"cli-token-{self.calls:04d}", int(self.clock()) + self.lifetime)


def test_one_token_per_expiry_each_registered() -> None:
    clock, redactor = VirtualClock(start=1_700_000_000), Redactor()
    inner = CountingCredential(clock)
    cached = CachedCredential(inner, redactor, clock=clock)
    tokens = {cached.get_token(SCOPE).token for _ in range(50)}
    assert (inner.calls, tokens) == (1, {"cli-token-0001"})
    clock.advance(3600 - 300 - 1)  # still outside the 5-minute refresh margin
    assert cached.get_token(SCOPE).token == "cli-token-0001"
    clock.advance(2)  # inside it: refreshed once
    assert {cached.get_token(SCOPE).token for _ in range(10)} == {"cli-token-0002"}
    assert cached.get_token(SCOPE, claims='{"access_token":{}}').token == "cli-token-0003"
    assert inner.calls == cached.fetches == 3
    assert redactor.text("echo cli-token-0002") == "echo [REDACTED]"


def test_refresh_on_from_token_info_is_honoured() -> None:
    clock = VirtualClock(start=1_700_000_000)

    class InfoCredential:
        calls = 0

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise AssertionError("get_token_info is preferred")

        def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
            self.calls += 1
            now = int(clock())
            return AccessTokenInfo(f"t{self.calls}", now + 3600, refresh_on=now + 600)

    inner = InfoCredential()
    cached = CachedCredential(inner, Redactor(), clock=clock)
    assert cached.get_token_info(SCOPE).token == "t1"
    clock.advance(601)
    assert cached.get_token(SCOPE).token == "t2" and inner.calls == 2


def test_a_multi_page_collection_asks_the_credential_once(emulator, run_collector,
                                                          credential: Any) -> None:
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    graph_gets = [r for r in emu.requests if r["method"] == "GET"]
    assert evidence and len(graph_gets) >= 5  # users over pages, policies, registrations...
    assert len(credential.scopes) == 1  # one token for the whole run (it does not expire)


def test_login_host_reaches_the_credential_without_instance_discovery(context) -> None:
    env = type(context)(as_of=context.as_of, raw=context.raw, base_dir=context.base_dir,
                        secrets=context.secrets, env={"S": "secret-value-9"})
    entry = {"name": "x", "tenant_id": CONTOSO, "client_id": "app", "client_secret_env": "S"}
    cred = source.make_credential(entry, env, "https://login.proxy.example")
    assert cred._authority == "https://login.proxy.example"  # type: ignore[attr-defined]
    # MSAL would otherwise ask login.microsoftonline.com whether the authority is known
    assert cred._instance_discovery is False  # type: ignore[attr-defined]
    public = source.make_credential(entry, env, source.CLOUDS["global"].login)
    assert public._instance_discovery is None  # type: ignore[attr-defined]


class Refusing:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise self.exc


def _build(monkeypatch: pytest.MonkeyPatch, context: Any, credential: Any, **entry: Any
           ) -> list[Any]:
    monkeypatch.setattr(source, "make_credential", lambda e, c, login: credential)
    spec = {"name": "morel", "tenant_id": CONTOSO, "client_id": "app",
            "client_secret_env": "MOREL_SECRET", "collect": ["entra"], **entry}
    return source.build(spec, context)


@pytest.mark.parametrize(("exc", "expected"), [
    (ClientAuthenticationError("AADSTS7000215: Invalid client secret provided. Ensure the "
                               "secret being sent in the request is the client secret value"),
     "Entra ID refused the token request (AADSTS7000215: the client secret is not valid for "
     "this application); put a current client secret of the application in MOREL_SECRET"),
    (ClientAuthenticationError("AADSTS90002: Tenant '1111' not found."),
     "(AADSTS90002: the tenant is not found); correct tenant_id"),
    (CredentialUnavailableError("Please run 'az login' to set up an account"),
     "the Azure CLI credential is unavailable: Please run 'az login' to set up an account; "
     "run az login --tenant"),
])
def test_a_refused_credential_is_a_configuration_problem(monkeypatch, context, exc,
                                                         expected) -> None:
    with pytest.raises(ConfigurationError) as info:
        _build(monkeypatch, context, Refusing(exc))
    [problem] = info.value.problems
    assert str(problem).startswith("m365 source 'morel': ")
    assert expected in str(problem)


def test_a_login_service_outage_is_left_to_the_collection(monkeypatch, context, emulator
                                                          ) -> None:
    emu = emulator("contoso")
    outage = ClientAuthenticationError("Authentication failed: HTTP 503 Service Unavailable")
    [collector] = _build(monkeypatch, context, Refusing(outage), graph_host=emu.base)
    assert collector.origin == f"entra/{CONTOSO}"  # built: its failure will be an evidence gap


def test_an_unreachable_graph_host_is_a_configuration_problem(monkeypatch, context) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigurationError) as info:
        _build(monkeypatch, context, StaticCredential(), graph_host=f"http://127.0.0.1:{port}")
    assert str(info.value.problems[0]) == (
        f"m365 source 'morel': cannot reach Graph at 127.0.0.1:{port} (connection refused); "
        "check DNS, the network path or proxy (HTTPS_PROXY), and cloud / graph_host")


def test_graph_waits_come_out_of_the_entry_budget() -> None:
    budget = RetryBudget(8, clock=VirtualClock())
    handler = BoundedRetryHandler(max_retries=5, max_wait=60, budget=budget)
    request = httpx.Request("GET", "https://graph.microsoft.com/v1.0/users")
    throttled = httpx.Response(429, headers={"Retry-After": "5"}, request=request)
    assert handler.get_delay_time(0, throttled) == 5.0
    assert handler.get_delay_time(1, throttled) == RetryHandlerOption.MAX_DELAY  # 5 > 3 left
    assert budget.spent == 5.0 and budget.exhausted
    ok = httpx.Response(200, request=request)
    handler.get_delay_time(0, ok)  # a success takes nothing from the budget
    assert budget.spent == 5.0


def test_retry_max_attempts_sets_the_graph_retries() -> None:
    policy = source.retry_policy({"retry": {"max_attempts": 3, "budget_seconds": 42}})
    assert (policy.max_retries, policy.budget.seconds) == (2, 42.0)
    assert list(source.entry_problems({"name": "x", "tenant_id": "t", "auth": "azure_cli",
                                       "throttling": {"max_retries": 1},
                                       "retry": {"max_attempts": 2}}))


def test_a_graph_timeout_names_host_operation_and_limit(emulator, run_collector) -> None:
    """A hanging Graph: the error says what timed out, where and after how long (it was
    ``ReadTimeout: `` with an empty message)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(404)
            self.end_headers()

        def do_GET(self) -> None:
            release.wait(5)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        from clausewatch.collectors.m365 import clients
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(clients, "TIMEOUT", httpx.Timeout(0.2, connect=1.0))
            _, errors = run_collector(type("E", (), {"base": base})(), CONTOSO, "entra",
                                      retry={"max_attempts": 1})
    finally:
        release.set()
        server.shutdown()
    [error] = errors
    port = server.server_address[1]
    assert f"ReadTimeout after 0.2 s reading 127.0.0.1:{port} GET /v1.0/" in error.message
