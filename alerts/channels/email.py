"""Email over SMTP with STARTTLS (smtplib): the digest as text and simple HTML.

The connection is upgraded with STARTTLS before anything else is said, with the server's
certificate verified (system CAs, or ``ca_file``); a server that offers no STARTTLS is refused
rather than sent credentials or content in clear. ``Auto-Submitted: auto-generated`` (RFC 3834)
keeps out-of-office robots from answering.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from clausewatch.alerts.channels.base import ENV, ChannelSpec, Context, DeliveryError
from clausewatch.alerts.message import Digest


def message(digest: Digest, sender: str, to: list[str], prefix: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = (prefix + " " if prefix else "") + digest.title()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(digest.as_of)
    msg["Message-ID"] = make_msgid(domain="clausewatch.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-ClauseWatch-Group"] = digest.group_key
    msg.set_content(digest.text())
    parts = [f"<h2>{html.escape(digest.title())}</h2>",
             f"<p>{html.escape(digest.t.t('alert_open', n=digest.open_breaches))}</p>"]
    if digest.costs:
        items = "".join(f"<li>{html.escape(c)}{html.escape(digest.t.t('colon'))} "
                        f"{html.escape(v)}</li>" for c, v in digest.costs)
        parts.append(f"<h3>{html.escape(digest.t.t('alert_costs'))}</h3><ul>{items}</ul>")
    for kind, events in digest.by_kind():
        items = "".join(f"<li>{html.escape(digest.line(e))}</li>" for e in events)
        parts.append(f"<h3>{html.escape(digest.group(kind, len(events)))}</h3><ul>{items}</ul>")
    msg.add_alternative("<html><body>" + "".join(parts) + "</body></html>", subtype="html")
    return msg


def tls_context(ca_file: str | None, base_dir: Path) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file)
    return ssl.create_default_context(cafile=str(path if path.is_absolute() else base_dir / path))


def send(digest: Digest, ctx: Context) -> str:
    host = ctx.option("host")
    port = int(ctx.option("port", 587))
    prefix = ctx.option("subject_prefix", "[ClauseWatch]")
    msg = message(digest, ctx.option("from"), list(ctx.option("to")), prefix)
    user = ctx.secret("username_env") if ctx.option("username_env") else None
    password = ctx.secret("password_env") if ctx.option("password_env") else None
    try:
        context = tls_context(ctx.option("ca_file"), ctx.base_dir)
        with smtplib.SMTP(host, port, timeout=ctx.timeout) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    f"{host}:{port} does not offer STARTTLS; refusing to send in clear",
                    retryable=False,
                )
            smtp.starttls(context=context)
            smtp.ehlo()
            if user is not None:
                smtp.login(user, password or "")
            refused = smtp.send_message(msg)
    except DeliveryError:
        raise
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", retryable=400 <= exc.smtp_code < 500
        ) from exc
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS: {exc}", retryable=False) from exc
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
    except OSError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    if refused:
        return f"sent; refused for {', '.join(sorted(refused))}"
    return f"sent to {len(msg['To'].split(','))} recipient(s)"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


CHANNEL = ChannelSpec(
    type="email",
    options={
        "properties": {
            "host": {"type": "string", "minLength": 1},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "from": {"type": "string", "minLength": 3},
            "to": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 3}},
            "username_env": ENV,
            "password_env": ENV,
            "ca_file": {
                "type": "string",
                "minLength": 1,
                "description": "CA bundle to verify the server's certificate (default: the "
                "system's).",
            },
            "subject_prefix": {"type": "string"},
        },
        "required": ["host", "from", "to"],
        "examples": [
            {
                "host": "smtp.example.org",
                "port": 587,
                "from": "clausewatch@example.org",
                "to": ["dsi@example.org"],
                "username_env": "SMTP_USER",
                "password_env": "SMTP_PASSWORD",
                "ca_file": "ca.pem",
                "subject_prefix": "[ClauseWatch]",
            }
        ],
    },
    needs_http=False,
    send=send,
)
