"""``clausewatch keygen``: write an Ed25519 key pair to sign evidence packs.

The private key is a PKCS#8 PEM file created with mode 0600 (encrypted with the password in
``$CLAUSEWATCH_SIGNING_KEY_PASSWORD`` when it is set, the variable ``run`` reads it from); the
public key is a SubjectPublicKeyInfo PEM file beside it (``KEY.pub.pem``), to hand to auditors.
Neither file is ever overwritten. The SHA-256 fingerprint of the public key, the one ``verify``
and the pack's README print, is printed (cryptography's Ed25519:
https://cryptography.io/en/latest/hazmat/primitives/asymmetric/ed25519/).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clausewatch.commands.common import UsageError, console_for
from clausewatch.core.run import ExitCode
from clausewatch.reports import signing
from clausewatch.reports.publish import SIGNING_KEY_ENV, SIGNING_PASSWORD_ENV

NAME = "keygen"
DESCRIPTION = __doc__.split("\n\n")[1] if __doc__ else None
DEFAULT_KEY = Path("clausewatch-signing-key.pem")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=DEFAULT_KEY, metavar="KEY.pem",
                   help=f"private key file to create (default ./{DEFAULT_KEY}); the public key "
                   "goes beside it as KEY.pub.pem")


def public_path(private: Path) -> Path:
    """``key.pem`` -> ``key.pub.pem``."""
    stem = private.name[: -len(".pem")] if private.name.endswith(".pem") else private.name
    return private.with_name(f"{stem}.pub.pem")


def run(args: argparse.Namespace) -> int:
    private, public = args.out, public_path(args.out)
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise UsageError(f"{path} already exists; keygen never overwrites a key (move it "
                             "away or choose another --out)")
    password = os.environ.get(SIGNING_PASSWORD_ENV)
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode("utf-8")) if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            encryption)
    try:
        _create(private, pem, 0o600)
        try:
            _create(public, signing.public_pem(key.public_key()).encode("ascii"), 0o644)
        except BaseException:
            private.unlink(missing_ok=True)
            raise
    except FileExistsError as exc:
        raise UsageError(f"{exc.filename} already exists; keygen never overwrites a key") \
            from exc
    except OSError as exc:
        raise UsageError(f"cannot write the key pair: {exc.strerror or exc} "
                         f"({exc.filename or private})") from exc
    console = console_for(args)
    for line in (
        f"private key: {private} (mode 600{', encrypted' if password else ''}; keep it secret, "
        f"give it to 'run' with --signing-key or ${SIGNING_KEY_ENV})",
        f"public key:  {public} (give it to auditors: verify --public-key)",
        f"fingerprint: {signing.fingerprint(key.public_key())}",
    ):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return ExitCode.OK


def _create(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never replacing anything) with ``mode`` from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    os.chmod(path, mode)  # the umask may have taken bits off; this sets exactly the mode
