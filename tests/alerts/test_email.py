"""Email over SMTP with STARTTLS to a local aiosmtpd server with a self-signed certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nights import B, contract, evaluation, info, night

from clausewatch.alerts.config import AlertConfig, ChannelConfig, Retry
from clausewatch.alerts.deliver import deliver
from clausewatch.alerts.events import Rules, detect
from clausewatch.alerts.notify import make_digest
from clausewatch.history.store import Prior


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Inbox:
    """An aiosmtpd handler: answers 451 for the first ``fail`` messages, then accepts."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.tls_seen: list[bool] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.tls_seen.append(session.ssl is not None)
        if self.fail:
            self.fail -= 1
            return "451 4.3.0 Try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def certs(tmp_path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(certs, handler, *, starttls: bool = True) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certs)
    kwargs = {"tls_context": context, "require_starttls": True} if starttls else {}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def mail(certs) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = smtp_server(certs, inbox)
    yield inbox, controller.port
    controller.stop()


def email_config(port: int, ca: Path, attempts: int = 3) -> AlertConfig:
    channel = ChannelConfig(name="mail", type="email", options={
        "host": "127.0.0.1", "port": port, "from": "clausewatch@example.org",
        "to": ["dsi@example.org", "rssi@example.org"], "ca_file": str(ca)})
    return AlertConfig(channels=(channel,), timeout_seconds=5,
                       retry=Retry(attempts=attempts, initial_wait_seconds=0,
                                   max_wait_seconds=0))


def digest():
    k = contract()
    ev = evaluation(k, night(0), {"srv-1": B})
    return make_digest(ev, info(night(0), "r1"), detect(Prior(), ev, Rules()))


def test_email_goes_over_starttls_with_a_verified_certificate(mail, certs):
    inbox, port = mail
    (d,) = deliver(digest(), email_config(port, certs[0]))
    assert d.ok, d.detail
    assert d.detail == "sent to 2 recipient(s)" and d.attempts == 1
    assert inbox.tls_seen == [True]
    ((sender, rcpts, raw),) = inbox.messages
    assert sender == "clausewatch@example.org"
    assert rcpts == ["dsi@example.org", "rssi@example.org"]
    msg = message_from_bytes(raw)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"] == "[ClauseWatch] ClauseWatch: Test contract: 1 newly breached"
    text = msg.get_payload()[0].get_payload(decode=True).decode()
    assert "§PATCH SRV-1: srv-1 is breached" in text


def test_smtp_that_fails_then_recovers(certs):
    inbox = Inbox(fail=2)
    controller = smtp_server(certs, inbox)
    try:
        port = controller.port
        (d,) = deliver(digest(), email_config(port, certs[0], attempts=4))
        assert (d.ok, d.attempts) == (True, 3)
        assert len(inbox.messages) == 1 and inbox.tls_seen == [True, True, True]
    finally:
        controller.stop()


def test_untrusted_certificate_and_missing_starttls_are_refused(certs, tmp_path):
    inbox = Inbox()
    controller = smtp_server(certs, inbox)
    try:
        port = controller.port
        (tmp_path / "other").mkdir()
        other_ca, _ = self_signed(tmp_path / "other")
        (d,) = deliver(digest(), email_config(port, other_ca))
        assert not d.ok and d.attempts == 1 and d.detail.startswith("TLS:")
        assert inbox.messages == []
    finally:
        controller.stop()
    plain = smtp_server(certs, inbox, starttls=False)
    try:
        port = plain.port
        (d,) = deliver(digest(), email_config(port, certs[0]))
        assert not d.ok and "does not offer STARTTLS" in d.detail
        assert inbox.messages == []
    finally:
        plain.stop()


def test_a_closed_port_is_retried_then_reported(certs):
    port = free_port()
    (d,) = deliver(digest(), email_config(port, certs[0], attempts=2))
    assert not d.ok and d.attempts == 2 and "ConnectionRefusedError" in d.detail
