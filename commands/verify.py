"""``clausewatch verify PACK``: check an evidence pack (hashes, signature, chain, re-evaluation)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from clausewatch.commands.common import UsageError
from clausewatch.core.problems import InputError
from clausewatch.pipeline.archive import ArchiveError
from clausewatch.reports import signing
from clausewatch.reports import verify as verifying

NAME = "verify"
DESCRIPTION = verifying.__doc__.split("\n\n")[1] if verifying.__doc__ else None
EPILOG = (
    "Trusted keys: --public-key and --trusted-keys (repeatable), else "
    f"${signing.TRUSTED_KEYS_ENV}: SHA-256 fingerprints of keys (64 hex digits), PEM public key "
    "files or trusted-keys files (one entry a line, # comments), separated by commas or spaces. "
    "Exit codes: 0 verified (signed by a trusted key; or unsigned: integrity only, no proof of "
    "origin; or --integrity-only); 5 a check failed (each failing file is named); "
    f"{verifying.VERIFY_NOT_CHECKED} the pack is signed but no trusted key was given "
    "(signature present, not checked); 2 the pack or the key cannot be read."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pack", metavar="PACK", help="evidence pack folder or its zip, or an "
                   "s3://bucket/key of an archived pack (read with the AWS default credentials)")
    p.add_argument("--s3-endpoint-url", metavar="URL", help="S3-compatible endpoint for an "
                   "s3:// PACK (default: AWS)")
    p.add_argument("--public-key", type=Path, metavar="PEM", action="append", default=[],
                   help="an Ed25519 public key the signature may be by (repeatable)")
    p.add_argument("--trusted-keys", type=Path, metavar="FILE", action="append", default=[],
                   help="a file of trusted keys: fingerprints or PEM files, one a line")
    p.add_argument("--integrity-only", action="store_true", help="check hashes, chain and "
                   "re-evaluation only; accept a signature without checking who made it")
    p.add_argument("--previous", type=Path, metavar="PACK", help="the previous pack, to check "
                   "the chain link")


def trust_for(args: argparse.Namespace, env: Mapping[str, str]) -> signing.Trust:
    """The trusted keys: the command line's if any, else the environment's."""
    given = [*args.public_key, *args.trusted_keys]
    if given and args.integrity_only:
        raise UsageError("--integrity-only checks no signature: drop --public-key/--trusted-keys")
    if args.integrity_only:
        return signing.Trust()
    if given:
        return signing.trust_from([str(p) for p in given], "--public-key/--trusted-keys")
    return signing.trust_from_env(env.get(signing.TRUSTED_KEYS_ENV, ""))


def run(args: argparse.Namespace) -> int:
    """Check an evidence pack; print each check and what fails."""
    with tempfile.TemporaryDirectory(prefix="clausewatch-verify-") as tmp:
        try:
            pack = _local(args.pack, Path(tmp), args.s3_endpoint_url)
        except ArchiveError as exc:
            sys.stderr.write(f"clausewatch verify: {exc}\n")
            return verifying.VERIFY_UNREADABLE
        return _verify(args, pack)


def _local(pack: str, tmp: Path, endpoint_url: str | None) -> Path:
    """The pack as a local path: an ``s3://`` one is downloaded into ``tmp`` first."""
    if not pack.startswith("s3://"):
        return Path(pack)
    from clausewatch.pipeline.archive import fetch_pack  # boto3 only when asked

    return fetch_pack(pack, tmp, endpoint_url=endpoint_url)


def _verify(args: argparse.Namespace, pack: Path) -> int:
    try:
        trust = trust_for(args, os.environ)
        result = verifying.verify(pack, None, args.previous, trust=trust,
                                  integrity_only=args.integrity_only)
    except InputError as exc:
        sys.stderr.write("".join(f"clausewatch verify: {p}\n" for p in exc.problems))
        return verifying.VERIFY_UNREADABLE
    except verifying.Unreadable as exc:
        sys.stderr.write(f"clausewatch verify: {exc}\n")
        return verifying.VERIFY_UNREADABLE
    sys.stdout.write("".join(f"{line}\n" for line in result.lines()))
    return result.exit_code
