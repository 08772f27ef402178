"""``clausewatch verify PACK``: check an evidence pack (hashes, signature, chain, re-evaluation)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clausewatch.reports import verify as verifying

NAME = "verify"
HELP = "check an evidence pack: hashes, signature, chain, and re-evaluation"
DESCRIPTION = verifying.__doc__.split("\n\n")[1] if verifying.__doc__ else None
EPILOG = ("Exit codes: 0 every check holds; 5 a check failed (each failing file is named); "
          "2 the pack or the key cannot be read.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pack", type=Path, metavar="PACK", help="evidence pack folder or its zip")
    p.add_argument("--public-key", type=Path, metavar="PEM", help="Ed25519 public key to check "
                   "the signature with")
    p.add_argument("--previous", type=Path, metavar="PACK", help="the previous pack, to check "
                   "the chain link")


def run(args: argparse.Namespace) -> int:
    """Check an evidence pack; print each check and what fails."""
    try:
        result = verifying.verify(args.pack, args.public_key, args.previous)
    except verifying.Unreadable as exc:
        sys.stderr.write(f"clausewatch verify: {exc}\n")
        return verifying.VERIFY_UNREADABLE
    sys.stdout.write("".join(f"{line}\n" for line in result.lines()))
    return result.exit_code
