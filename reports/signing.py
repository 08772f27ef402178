"""Ed25519 signatures over an evidence pack's manifest and chain record (``cryptography``).

The signed message is the bytes of ``manifest.json`` followed by the bytes of ``chain.json``;
``signature.json`` holds the signature (base64) and the SHA-256 fingerprint of the raw 32-byte
public key. The private key never enters the pack. Anyone can check a pack without ClauseWatch::

    jq -r .signature signature.json | base64 -d > sig.bin
    cat manifest.json chain.json > signed.bin
    openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in signed.bin -sigfile sig.bin
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clausewatch.core.problems import InputError, Problem

SIGNED_FILES = ("manifest.json", "chain.json")
ALGORITHM = "Ed25519"


def _problem(path: Path, message: str) -> InputError:
    return InputError([Problem(str(path), 0, 0, "", message)])


def load_private_key(path: Path, password: bytes | None = None) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file; ``InputError`` naming the file otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _problem(path, f"cannot read signing key: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:
        hint = "set CLAUSEWATCH_SIGNING_KEY_PASSWORD" if password is None else str(exc)
        raise _problem(path, f"signing key is encrypted: {hint}") from exc
    except ValueError as exc:
        raise _problem(path, f"not a PEM private key (or wrong password): {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise _problem(path, f"signing key must be Ed25519, got {type(key).__name__}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (SubjectPublicKeyInfo)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _problem(path, f"cannot read public key: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise _problem(path, f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise _problem(path, f"public key must be Ed25519, got {type(key).__name__}")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def signed_message(pack: Path) -> bytes:
    return b"".join((pack / name).read_bytes() for name in SIGNED_FILES)


def sign(pack: Path, key: Ed25519PrivateKey) -> dict[str, object]:
    """The ``signature.json`` document for the pack's manifest and chain."""
    return {
        "format": "clausewatch-signature/1",
        "algorithm": ALGORITHM,
        "signed_files": list(SIGNED_FILES),
        "public_key_sha256": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(signed_message(pack))).decode("ascii"),
    }


def check(pack: Path, doc: dict[str, object], key: Ed25519PublicKey) -> str | None:
    """None if ``doc`` is a valid signature of the pack by ``key``; otherwise why not."""
    signed = doc.get("signed_files")
    if doc.get("algorithm") != ALGORITHM or not isinstance(signed, list) or signed != list(
        SIGNED_FILES
    ):
        return f"unsupported signature: {doc.get('algorithm')} over {doc.get('signed_files')}"
    expected = fingerprint(key)
    if doc.get("public_key_sha256") != expected:
        return f"signed by key {doc.get('public_key_sha256')}, not by the given key {expected}"
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
        key.verify(signature, signed_message(pack))
    except (InvalidSignature, ValueError):
        return "signature does not match manifest.json + chain.json"
    return None
