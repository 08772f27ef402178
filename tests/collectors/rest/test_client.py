"""The client factory: User-Agent, secrets, plain http refused, TLS verification with a CA
bundle (against a local HTTPS server with a certificate made here), proxies from the
environment, settings from a sources entry."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clausewatch.collectors.rest.client import (
    DEFAULT_TIMEOUTS,
    ClientSettings,
    Timeouts,
    connection_problems,
    make_client,
    settings_from,
    user_agent,
)
from clausewatch.collectors.rest.errors import InsecureUrl
from clausewatch.collectors.rest.mapper import collection_error
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.core.problems import InputError
from clausewatch.core.redact import Redactor


def test_requests_carry_the_clausewatch_user_agent(server, make_session):
    server.script("GET /api/ping", {"body": {}})
    make_session().get_json("ping")
    headers = server.requests[0].headers
    assert headers["User-Agent"] == user_agent()
    assert user_agent().startswith("clausewatch/")
    assert headers["Accept"] == "application/json"


def test_credentials_are_registered_before_any_request():
    redactor = Redactor()
    client = make_client(ClientSettings(base_url="https://vbr.example:9419/api/"), redactor,
                         credentials=["pa55word!", "api-key-123456"])
    client.close()
    assert redactor.known == ["pa55word!", "api-key-123456"]


@pytest.mark.parametrize("url", ["http://vbr.example:9419/", "http://10.0.0.5/"])
def test_plain_http_to_another_machine_is_refused(url):
    with pytest.raises(InsecureUrl):
        make_client(ClientSettings(base_url=url), Redactor())
    assert connection_problems({"url": url}) == [
        (["url"], f"{url} is plain http to another machine; use https")]


def test_connection_problems():
    assert connection_problems({"url": "http://127.0.0.1:55000/"}) == []
    assert connection_problems({"url": "http://localhost/"}) == []
    assert connection_problems({"url": "https://h/", "tls": {"verify": False,
                                                              "ca_bundle": "ca.pem"}}) == [
        (["tls"], "ca_bundle and verify: false contradict each other; keep one")]


def test_settings_from_an_entry(tmp_path):
    pem = tmp_path / "ca.pem"
    _write_ca(pem)
    settings = settings_from({"name": "vbr-01", "url": "https://vbr:9419/api/",
                              "timeouts": {"read": 120}, "tls": {"ca_bundle": "ca.pem"}},
                             tmp_path, section="veeam")
    assert settings.timeouts == Timeouts(connect=10.0, read=120.0, write=30.0, pool=10.0)
    assert settings.ca_bundle == pem.resolve()
    assert settings.verify and settings.label == "veeam vbr-01"
    plain = settings_from({"name": "x", "url": "https://h/"}, tmp_path, section="veeam")
    assert plain.timeouts == DEFAULT_TIMEOUTS and plain.ca_bundle is None


@pytest.mark.parametrize(("content", "why"), [(None, "no such file"),
                                              ("not a certificate", "not a PEM file")])
def test_a_bad_ca_bundle_is_an_input_error(tmp_path, content, why):
    if content is not None:
        (tmp_path / "ca.pem").write_text(content)
    with pytest.raises(InputError) as info:
        settings_from({"name": "vbr-01", "url": "https://h/", "tls": {"ca_bundle": "ca.pem"}},
                      tmp_path, section="veeam")
    problem = info.value.problems[0]
    assert problem.path == "veeam vbr-01: tls.ca_bundle" and why in problem.message


def test_proxies_come_from_the_environment(server, monkeypatch):
    # the scripted server plays the proxy: a request for a host that does not exist reaches it
    monkeypatch.setenv("HTTP_PROXY", server.base)
    server.script("GET /status", {"body": {"via": "proxy"}})
    client = make_client(ClientSettings(base_url="http://localhost:1/"), Redactor())
    with client:
        assert client.get("/status").json() == {"via": "proxy"}
    assert server.requests[0].target == "http://localhost:1/status"  # absolute-form: proxied


# -- TLS against a local HTTPS server --------------------------------------------------------

def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_ca(path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("ClauseWatch test CA"))
            .issuer_name(_name("ClauseWatch test CA")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


@pytest.fixture
def https_server(tmp_path) -> Iterator[dict[str, Any]]:
    ca_cert, ca_key = _write_ca(tmp_path / "ca.pem")
    key = _key()
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield {"url": f"https://127.0.0.1:{httpd.server_address[1]}/", "dir": tmp_path}
    httpd.shutdown()
    httpd.server_close()


def _get(settings: ClientSettings, attempts: int = 3) -> Any:
    calls: list[float] = []
    session = RestSession(make_client(settings, Redactor()),
                          RetryPolicy(attempts=attempts, sleep=calls.append, jitter=0.0))
    with session:
        return session.get_json("ping")


def test_tls_is_verified_by_default_and_not_retried(https_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    settings = ClientSettings(base_url=https_server["url"])
    with pytest.raises(httpx.ConnectError) as info:  # raised at once: no GaveUp, no retry
        _get(settings)
    error = collection_error(info.value, source="veeam", origin="veeam/vbr", kinds=["backup"],
                             operation="ping", redact=Redactor())
    assert error.message.startswith("ping: TLS certificate of 127.0.0.1:")
    assert "set tls.ca_bundle" in error.message
    assert not error.retryable


def test_a_ca_bundle_makes_the_certificate_trusted(https_server):
    settings = settings_from({"name": "vbr", "url": https_server["url"],
                              "tls": {"ca_bundle": "ca.pem"}}, https_server["dir"],
                             section="veeam")
    assert _get(settings) == {"ok": True}


def test_verify_false_works_and_is_logged_loudly(https_server, caplog):
    settings = settings_from({"name": "vbr", "url": https_server["url"],
                              "tls": {"verify": False}}, https_server["dir"], section="veeam")
    with caplog.at_level(logging.WARNING, logger="clausewatch.collectors.rest.client"):
        assert _get(settings) == {"ok": True}
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert "TLS verification is OFF for veeam vbr" in warning[0].getMessage()
