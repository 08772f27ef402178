"""Build evidence packs of the small fixed run for the pack and verify tests."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clausewatch.reports.evidence_pack import PACK_DIR
from clausewatch.reports.output import staged_dir
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.publish import publish_run

HOST = {"hostname": "auditor-test", "platform": "test", "python": "3"}
RAW_SECRET = "raw-page-secret-9f8e7d6c"
RAW_BEARER = "Bearer eyJraWQiOiJURVNUIn0.raw-bearer-token"


def write_raw(folder: Path) -> Path:
    """Two raw API pages carrying secrets, as a collector would have recorded them."""
    (folder / "entra").mkdir(parents=True, exist_ok=True)
    (folder / "entra" / "users-0001.json").write_text(
        json.dumps(
            {
                "request": {"headers": {"Authorization": RAW_BEARER, "Accept": "json"}},
                "value": [{"userPrincipalName": "bob@client.test", "passwordLastUsed": "x"}],
                "client_secret": RAW_SECRET,
            }
        ),
        encoding="utf-8",
    )
    (folder / "entra" / "note.txt").write_text(f"token was {RAW_SECRET}\n", encoding="utf-8")
    return folder


def build(case, out: Path, **options) -> Path:
    """Publish the case into ``out`` (atomically) and return the pack folder."""
    options.setdefault("host", HOST)
    with staged_dir(out) as stage:
        (stage / "contract.yaml").write_bytes(case.contract_path.read_bytes())
        publish_run(
            stage,
            case.ev,
            case.info,
            case.records,
            case.contract_path.read_bytes(),
            PackOptions(**options),
        )
    return out / PACK_DIR


def keypair(folder: Path, name: str = "signer") -> tuple[Ed25519PrivateKey, Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = folder / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = folder / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, private, public
