"""Ed25519 signatures over an evidence pack's manifest and chain record (``cryptography``).

The signed message is the bytes of ``manifest.json`` followed by the bytes of ``chain.json``.
``chain.json`` (so the signed message) carries the signer's public key (raw, base64) and its
SHA-256 fingerprint; ``signature.json`` holds the signature (base64) and fields that are
checked exactly: its ``format``, the ``algorithm``, the ``signed_files`` and the fingerprint,
which must equal the signed one. ``signature.json`` must also be byte for byte the canonical
JSON of its fields, so no byte of it escapes the check. The private key never enters the pack.

A pack proves its origin only against a key the verifier trusts (:class:`Trust`: PEM public
keys, or SHA-256 fingerprints of keys, given on the command line or in
``$CLAUSEWATCH_TRUSTED_KEYS``). Anyone can check a pack without ClauseWatch::

    jq -r .signature signature.json | base64 -d > sig.bin
    cat manifest.json chain.json > signed.bin
    openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in signed.bin -sigfile sig.bin
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clausewatch.core.problems import InputError, Problem

SIGNED_FILES = ("manifest.json", "chain.json")
ALGORITHM = "Ed25519"
FORMAT = "clausewatch-signature/2"
#: The fields of ``signature.json``, exactly.
FIELDS = frozenset({"format", "algorithm", "signed_files", "public_key_sha256", "signature"})
#: The fields of the ``signing`` record of ``chain.json``, exactly.
RECORD_FIELDS = frozenset({"algorithm", "public_key", "public_key_sha256"})
TRUSTED_KEYS_ENV = "CLAUSEWATCH_TRUSTED_KEYS"
_FINGERPRINT = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


def _problem(path: Path | str, message: str, line: int = 0) -> InputError:
    return InputError([Problem(str(path), line, 0, "", message)])


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


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex."""
    return hashlib.sha256(_raw(key)).hexdigest()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def render(doc: Mapping[str, Any]) -> str:
    """The canonical text of a pack's JSON record (as the pack writes every JSON file)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def signed_message(pack: Path) -> bytes:
    return b"".join((pack / name).read_bytes() for name in SIGNED_FILES)


def signing_record(key: Ed25519PrivateKey) -> dict[str, str]:
    """What ``chain.json`` says of its signer (so it is signed too): algorithm and public key."""
    public = key.public_key()
    return {
        "algorithm": ALGORITHM,
        "public_key": base64.b64encode(_raw(public)).decode("ascii"),
        "public_key_sha256": fingerprint(public),
    }


def sign(pack: Path, key: Ed25519PrivateKey) -> dict[str, object]:
    """The ``signature.json`` document for the pack's manifest and chain."""
    return {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "signed_files": list(SIGNED_FILES),
        "public_key_sha256": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(signed_message(pack))).decode("ascii"),
    }


def _b64(text: object, size: int) -> bytes | None:
    """The bytes of canonical base64 ``text`` of exactly ``size`` bytes, else None."""
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) != size or base64.b64encode(data).decode("ascii") != text:
        return None  # non-canonical padding bits would let a flipped byte pass
    return data


def inspect(pack: Path, raw: bytes, doc: Any, record: Any) -> tuple[list[str], str | None]:
    """Check ``signature.json`` (``raw``, parsed ``doc``) against the signed ``chain.json``
    signing ``record``, and the signature itself with the key that record names.

    Returns (problems, fingerprint of the signer). No problem means the pack is intact and was
    signed by that key: whether the key is *trusted* is for the caller to decide.
    """
    problems = list(_field_problems(raw, doc))
    signer = _record_key(record, problems)
    if problems or signer is None:
        return problems, None
    fp = fingerprint(signer)
    if doc["public_key_sha256"] != fp:
        return [f"public_key_sha256 {doc['public_key_sha256']} is not the signer {fp} recorded "
                "in chain.json"], None
    signature = _b64(doc["signature"], 64)
    if signature is None:
        return ["signature is not the canonical base64 of a 64-byte Ed25519 signature"], None
    try:
        signer.verify(signature, signed_message(pack))
    except InvalidSignature:
        return ["signature does not match manifest.json + chain.json"], None
    return [], fp


def _field_problems(raw: bytes, doc: Any) -> Iterator[str]:
    if not isinstance(doc, dict):
        yield "not a signature record"
        return
    if set(doc) != FIELDS:
        extra, missing = sorted(set(doc) - FIELDS), sorted(FIELDS - set(doc))
        yield f"fields differ from {sorted(FIELDS)} (unexpected {extra}, missing {missing})"
        return
    if doc["format"] != FORMAT:
        yield f"format {doc['format']!r} is not {FORMAT!r}"
    if doc["algorithm"] != ALGORITHM:
        yield f"algorithm {doc['algorithm']!r} is not {ALGORITHM!r}"
    if doc["signed_files"] != list(SIGNED_FILES):
        yield f"signed_files {doc['signed_files']!r} is not {list(SIGNED_FILES)!r}"
    if raw != render(doc).encode("utf-8"):
        yield "not in its canonical form (bytes were edited)"


def _record_key(record: Any, problems: list[str]) -> Ed25519PublicKey | None:
    """The signer's key from ``chain.json``'s signing record, checked field by field."""
    where = "chain.json signing record"
    if not isinstance(record, dict):
        problems.append(f"{where} missing: chain.json does not say the pack is signed")
        return None
    if set(record) != RECORD_FIELDS or record["algorithm"] != ALGORITHM:
        problems.append(f"{where} is not an {ALGORITHM} key record {sorted(RECORD_FIELDS)}")
        return None
    raw = _b64(record["public_key"], 32)
    if raw is None:
        problems.append(f"{where}: public_key is not the canonical base64 of a 32-byte key")
        return None
    key = Ed25519PublicKey.from_public_bytes(raw)
    if record["public_key_sha256"] != fingerprint(key):
        problems.append(f"{where}: public_key_sha256 is not the SHA-256 of public_key")
        return None
    return key


# --- trust ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trust:
    """The keys a verifier trusts, by SHA-256 fingerprint of the raw public key."""

    fingerprints: frozenset[str] = frozenset()
    origin: str = ""  # where the trust came from, for messages
    keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)  # those given as PEM

    def __bool__(self) -> bool:
        return bool(self.fingerprints)

    def trusts(self, fp: str) -> bool:
        return fp in self.fingerprints


def trust_from(entries: Iterable[str], origin: str, base: Path = Path(".")) -> Trust:
    """The trust given by ``entries``: each a SHA-256 fingerprint (64 hex digits, optionally
    ``sha256:``), a PEM public key file, or a trusted-keys file (one entry a line, ``#``
    comments; relative paths from that file's folder). ``InputError`` names a bad entry."""
    fps: set[str] = set()
    keys: dict[str, Ed25519PublicKey] = {}
    given = [e.strip() for e in entries if e.strip()]
    for entry in given:
        _add(entry, base, Path(origin), 0, fps, keys, depth=0)
    if given and not fps:
        raise _problem(origin, "no trusted key found in " + ", ".join(given))
    return Trust(frozenset(fps), origin, keys)


def trust_from_env(value: str) -> Trust:
    """``$CLAUSEWATCH_TRUSTED_KEYS``: entries separated by commas or white space."""
    entries = [e for e in re.split(r"[,\s]+", value) if e]
    return trust_from(entries, f"${TRUSTED_KEYS_ENV}")


def _add(entry: str, base: Path, where: Path, line: int, fps: set[str],
         keys: dict[str, Ed25519PublicKey], depth: int) -> None:
    match = _FINGERPRINT.fullmatch(entry)
    if match:
        fps.add(match.group(1).lower())
        return
    path = Path(entry) if Path(entry).is_absolute() else base / entry
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _problem(where, f"trusted key {entry!r}: neither a SHA-256 fingerprint nor a "
                       f"readable file ({exc.strerror})", line) from exc
    if b"-----BEGIN" in data:
        key = load_public_key(path)
        fps.add(fingerprint(key))
        keys[fingerprint(key)] = key
        return
    if depth:
        raise _problem(path, "a trusted-keys file may list fingerprints and PEM files only", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(path, "trusted-keys file is not UTF-8 text", line) from exc
    for n, row in enumerate(text.splitlines(), 1):
        row = row.split("#", 1)[0].strip()
        if row:
            _add(row, path.parent, path, n, fps, keys, depth=1)
