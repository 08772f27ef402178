"""``clausewatch verify PACK``: check an evidence pack the way an auditor would.

Four checks, all run, each naming what fails:

1. hashes: every file listed in ``manifest.json`` is present with its SHA-256, and no file is
   in the pack that the manifest does not list;
2. signature: ``signature.json`` is a valid Ed25519 signature of manifest + chain by the given
   public key (not checked when no key is given; a failure when a key is given but the pack is
   unsigned);
3. chain: ``chain.json`` records this manifest's digest and run; with ``--previous``, it links
   to that pack's manifest and chain digests with the next sequence number;
4. re-evaluation: the pack's contract, evaluated again over the pack's evidence at the recorded
   as_of, reproduces the recorded verdicts and per-subject results exactly.

Exit codes: 0 all checks hold, 5 a check failed (``VERIFY_FAILED``), 2 the pack or a key cannot
be read at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.collectors.jsonl import read_evidence
from clausewatch.core.clock import parse_utc
from clausewatch.core.problems import InputError
from clausewatch.core.run import RunInfo
from clausewatch.policies.load import load_contract
from clausewatch.reports import results_json, signing
from clausewatch.reports.evidence_pack import (
    CHAIN,
    CONTRACT,
    EVIDENCE,
    MANIFEST,
    RESULTS,
    SEALS,
    SIGNATURE,
    PackError,
    open_pack,
    read_link,
    sha256_bytes,
    sha256_file,
)

VERIFY_OK = 0
VERIFY_UNREADABLE = 2
VERIFY_FAILED = 5
MAX_LISTED = 25
COMPARED = ("status", "exit_code", "partial", "evidence_count", "waivers", "collection_errors")


class Unreadable(Exception):
    """The pack (or a key) cannot be read at all: exit 2."""


@dataclass(slots=True)
class Check:
    name: str
    ok: bool | None = True  # None: not checked (said why)
    notes: list[str] = field(default_factory=list)

    def fail(self, note: str) -> None:
        self.ok = False
        self.notes.append(note)


@dataclass(slots=True)
class Verification:
    pack: Path
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    @property
    def exit_code(self) -> int:
        return VERIFY_OK if self.ok else VERIFY_FAILED

    def lines(self) -> Iterator[str]:
        for c in self.checks:
            mark = {True: "OK  ", False: "FAIL", None: "--  "}[c.ok]
            yield f"{mark} {c.name}"
            shown = c.notes[:MAX_LISTED]
            for note in shown:
                yield f"     {note}"
            if len(c.notes) > len(shown):
                yield f"     ... and {len(c.notes) - len(shown)} more"
        yield f"{'VERIFIED' if self.ok else 'NOT VERIFIED'}: {self.pack}"


def verify(
    pack: Path, public_key: Path | None = None, previous: Path | None = None
) -> Verification:
    """Run every check on ``pack`` (a folder or its zip)."""
    key = None
    if public_key is not None:
        try:
            key = signing.load_public_key(public_key)
        except InputError as exc:
            raise Unreadable("; ".join(str(p) for p in exc.problems)) from exc
    if not pack.exists():
        raise Unreadable(f"{pack}: no such file or folder")
    try:
        with open_pack(pack) as root:
            if not (root / MANIFEST).is_file():
                raise Unreadable(f"{pack}: not an evidence pack (no {MANIFEST})")
            checks = [
                _hashes(root),
                _signature(root, key),
                _chain(root, previous),
                _reevaluation(root),
            ]
    except PackError as exc:
        raise Unreadable(str(exc)) from exc
    return Verification(pack, checks)


def _load_json(root: Path, rel: str, check: Check) -> Any:
    try:
        return json.loads((root / rel).read_bytes())
    except FileNotFoundError:
        check.fail(f"{rel}: missing")
    except (ValueError, UnicodeDecodeError) as exc:
        check.fail(f"{rel}: not valid JSON ({exc})")
    return None


def _hashes(root: Path) -> Check:
    check = Check(f"hashes: every file matches {MANIFEST}")
    manifest = _load_json(root, MANIFEST, check)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        if check.ok:
            check.fail(f"{MANIFEST}: no 'files' table")
        return check
    for rel, digest in sorted(files.items()):
        parts = PurePosixPath(rel)
        if parts.is_absolute() or ".." in parts.parts:
            check.fail(f"{rel}: unsafe path in {MANIFEST}")
            continue
        path = root / rel
        if not path.is_file():
            check.fail(f"{rel}: missing")
        elif sha256_file(path) != digest:
            check.fail(f"{rel}: altered (SHA-256 differs from {MANIFEST})")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel not in files and rel not in SEALS:
            check.fail(f"{rel}: not listed in {MANIFEST}")
    if check.ok:
        check.notes.append(f"{len(files)} files")
    return check


def _signature(root: Path, key: Any) -> Check:
    check = Check("signature: Ed25519 over manifest.json + chain.json")
    path = root / SIGNATURE
    if not path.is_file():
        if key is not None:
            check.fail(f"{SIGNATURE}: missing, but a public key was given (pack is not signed)")
        else:
            check.ok = None
            check.notes.append("pack is not signed")
        return check
    doc = _load_json(root, SIGNATURE, check)
    if not isinstance(doc, dict):
        if check.ok:
            check.fail(f"{SIGNATURE}: not a signature record")
        return check
    if key is None:
        check.ok = None
        check.notes.append(
            f"signed by key {doc.get('public_key_sha256')}; not checked: pass --public-key"
        )
        return check
    try:
        problem = signing.check(root, doc, key)
    except OSError as exc:
        problem = f"cannot read the signed files: {exc}"
    if problem:
        check.fail(f"{SIGNATURE}: {problem}")
    else:
        check.notes.append(f"signed by {signing.fingerprint(key)}")
    return check


def _chain(root: Path, previous: Path | None) -> Check:
    check = Check("chain: links this manifest (and the previous pack)")
    chain = _load_json(root, CHAIN, check)
    if not isinstance(chain, dict):
        if check.ok:
            check.fail(f"{CHAIN}: not a chain record")
        return check
    try:
        manifest_sha = sha256_file(root / MANIFEST)
    except OSError:
        manifest_sha = ""
    if chain.get("manifest_sha256") != manifest_sha:
        check.fail(f"{CHAIN}: manifest_sha256 does not match {MANIFEST}")
    results = _load_json(root, RESULTS, Check("-"))
    run_id = (results or {}).get("run", {}).get("run_id") if isinstance(results, dict) else None
    if run_id is not None and chain.get("run_id") != run_id:
        check.fail(f"{CHAIN}: run_id {chain.get('run_id')} is not the run of {RESULTS}")
    link = chain.get("previous")
    if previous is None:
        if link:
            check.notes.append(
                f"links to run {link.get('run_id')} (sequence {link.get('sequence')}); "
                "pass --previous to check that link"
            )
        else:
            check.notes.append("first pack of its chain")
        return check
    try:
        prev = read_link(previous)
    except PackError as exc:
        raise Unreadable(str(exc)) from exc
    if not link:
        check.fail(f"{CHAIN}: starts a new chain, but --previous {previous} was given")
        return check
    if link.get("manifest_sha256") != prev.manifest_sha256:
        check.fail(f"{CHAIN}: previous manifest_sha256 is not that of {previous}/{MANIFEST}")
    if link.get("chain_sha256") != prev.chain_sha256:
        check.fail(f"{CHAIN}: previous chain_sha256 is not that of {previous}/{CHAIN}")
    if chain.get("sequence") != prev.sequence + 1:
        check.fail(
            f"{CHAIN}: sequence {chain.get('sequence')} does not follow {prev.sequence} "
            f"of {previous}"
        )
    if check.ok:
        check.notes.append(f"follows run {prev.run_id} (sequence {prev.sequence})")
    return check


def _reevaluation(root: Path) -> Check:
    check = Check("re-evaluation: contract + evidence reproduce the recorded results")
    recorded = _load_json(root, RESULTS, check)
    if not isinstance(recorded, dict):
        if check.ok:
            check.fail(f"{RESULTS}: not a results document")
        return check
    try:
        as_of = parse_utc(str(recorded["as_of"]), "as_of")
        contract_info = recorded["contract"]
        contract_path = root / CONTRACT
        if sha256_bytes(contract_path.read_bytes()) != contract_info.get("sha256"):
            check.fail(f"{CONTRACT}: SHA-256 is not the one recorded in {RESULTS}")
        contract = load_contract(contract_path, CHECKS, name=CONTRACT)
        batch = read_evidence(root / EVIDENCE)
    except InputError as exc:
        for p in exc.problems[:MAX_LISTED]:
            check.fail(f"cannot re-evaluate: {p}")
        return check
    except (KeyError, TypeError, ValueError, OSError) as exc:
        check.fail(f"cannot re-evaluate: {RESULTS} or its inputs unreadable ({exc})")
        return check
    ev = evaluate(contract, batch.evidence, batch.errors, as_of)
    again = results_json.to_document(ev, RunInfo(as_of=as_of, started_at=as_of, run_id="-"))
    for key in COMPARED:
        if recorded.get(key) != again.get(key):
            check.fail(
                f"{RESULTS}: {key} differs: recorded {_short(recorded.get(key))}, "
                f"re-evaluated {_short(again.get(key))}"
            )
    for note in _compare_commitments(recorded.get("commitments") or [], again["commitments"]):
        check.fail(f"{RESULTS}: {note}")
    if check.ok:
        n = sum(len(c["results"]) for c in again["commitments"])
        check.notes.append(
            f"{len(again['commitments'])} verdicts and {n} subject results reproduced "
            f"from {len(batch.evidence)} evidence records at {recorded['as_of']}"
        )
    return check


def _compare_commitments(recorded: list[Any], again: list[dict[str, Any]]) -> Iterator[str]:
    old = {c.get("id"): c for c in recorded if isinstance(c, dict)}
    new = {c["id"]: c for c in again}
    for cid in sorted(old.keys() - new.keys(), key=str):
        yield f"commitment {cid} recorded but not in the contract"
    for cid in sorted(new.keys() - old.keys()):
        yield f"commitment {cid} in the contract but not recorded"
    for cid in [c["id"] for c in again if c["id"] in old]:
        a, b = old[cid], new[cid]
        for key in sorted(set(a) | set(b)):
            if key == "results" or a.get(key) == b.get(key):
                continue
            yield f"{cid}: {key} recorded {_short(a.get(key))}, re-evaluated {_short(b.get(key))}"
        ra = {r.get("subject"): r for r in a.get("results") or [] if isinstance(r, dict)}
        rb = {r["subject"]: r for r in b["results"]}
        for subject in sorted(ra.keys() - rb.keys(), key=str):
            yield f"{cid}: subject {subject} recorded but not re-evaluated"
        for subject in sorted(rb.keys() - ra.keys()):
            yield f"{cid}: subject {subject} re-evaluated but not recorded"
        for subject in sorted(ra.keys() & rb.keys(), key=str):
            x, y = ra[subject], rb[subject]
            diff = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            if diff:
                detail = ", ".join(
                    f"{k} {_short(x.get(k))} -> {_short(y.get(k))}" for k in diff[:3]
                )
                yield f"{cid}: subject {subject}: {detail}"
        if [r.get("subject") for r in a.get("results") or []] != [
            r["subject"] for r in b["results"]
        ] and ra.keys() == rb.keys():
            yield f"{cid}: subjects recorded in a different order"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
