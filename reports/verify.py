"""``clausewatch verify PACK``: check an evidence pack the way an auditor would.

Four checks, all run, each naming what fails:

1. hashes: every file listed in ``manifest.json`` is present with its SHA-256, no file is in the
   pack that the manifest does not list, the manifest is exactly the pack's record, and every
   attested restore test's signed report (``attachments/``) has the SHA-256 its record holds;
2. signature: ``signature.json`` is a valid Ed25519 signature of manifest + chain by a key the
   verifier trusts (``--public-key``, ``--trusted-keys`` or ``$CLAUSEWATCH_TRUSTED_KEYS``), and
   every field of it is checked exactly; without a trusted key it is "present, not checked";
3. chain: ``chain.json`` records this manifest's digest, run and as_of; with ``--previous``, it
   links to that pack's manifest and chain digests with the next sequence number, and a pack
   that follows a signed one must be signed too;
4. re-evaluation: the pack's contract, evaluated again over the pack's evidence at the recorded
   as_of, reproduces the recorded verdicts and per-subject results exactly.

What a verdict proves: only a signature by a trusted key proves where the pack comes from.
Hashes, chain and re-evaluation prove integrity only: anyone can re-run ClauseWatch on edited
evidence and re-hash the pack, so an unsigned pack verifies as "VERIFIED (unsigned: integrity
only, no proof of origin)".

Exit codes: 0 verified (signed by a trusted key; or unsigned, integrity only, when no trusted key
is configured; or ``--integrity-only``); 5 a check failed (``VERIFY_FAILED``); 6 the pack is
signed but no trusted key was given, so its origin is not checked (``VERIFY_NOT_CHECKED``);
2 the pack or a key cannot be read at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
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
    ATTACHMENTS,
    CHAIN,
    CHAIN_FIELDS,
    CHAIN_FORMAT,
    CONTRACT,
    CONTRACT_SHA256,
    EVIDENCE,
    FORMAT,
    MANIFEST,
    MANIFEST_FIELDS,
    RESULTS,
    SEALS,
    SIGNATURE,
    WAIVERS,
    Link,
    PackCorrupt,
    PackError,
    contract_digest_line,
    open_pack,
    read_link,
    sha256_bytes,
    sha256_file,
    waivers_document,
)
from clausewatch.reports.view import build_view

VERIFY_OK = 0
VERIFY_UNREADABLE = 2
VERIFY_FAILED = 5
VERIFY_NOT_CHECKED = 6
MAX_LISTED = 25
COMPARED = ("status", "exit_code", "partial", "evidence_count", "waivers", "collection_errors")
#: Chain records of packs made before the signer's key was recorded in them (ClauseWatch 0.1):
#: still verifiable when unsigned; a signed one fails (its signature.json is format 1).
CHAIN_FORMAT_1 = "clausewatch-chain/1"
HOW_TO_TRUST = (
    f"pass --public-key PEM or --trusted-keys FILE, set ${signing.TRUSTED_KEYS_ENV}, "
    "or ask --integrity-only"
)


class Unreadable(Exception):
    """The pack (or a key) cannot be read at all: exit 2."""


class Origin(StrEnum):
    """What the signature check established about where the pack comes from."""

    TRUSTED = "signed by a trusted key"
    UNSIGNED = "unsigned"
    NOT_CHECKED = "signature present, not checked"
    INTEGRITY_ONLY = "integrity only"


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
    origin: Origin = Origin.UNSIGNED
    signer: str | None = None  # fingerprint of the key that signed (when the signature holds)

    @property
    def ok(self) -> bool:
        """No check failed (the origin may still be unchecked: see ``verified``)."""
        return all(c.ok is not False for c in self.checks)

    @property
    def verified(self) -> bool:
        return self.ok and self.origin is not Origin.NOT_CHECKED

    @property
    def exit_code(self) -> int:
        if not self.ok:
            return VERIFY_FAILED
        return VERIFY_NOT_CHECKED if self.origin is Origin.NOT_CHECKED else VERIFY_OK

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "NOT VERIFIED"
        return {
            Origin.TRUSTED: f"VERIFIED (signed by trusted key {self.signer})",
            Origin.UNSIGNED: "VERIFIED (unsigned: integrity only, no proof of origin)",
            Origin.INTEGRITY_ONLY: (
                "VERIFIED (integrity only: signature present, not checked; no proof of origin)"
            ),
            Origin.NOT_CHECKED: (
                f"NOT VERIFIED (signature present, not checked: no trusted key; {HOW_TO_TRUST})"
            ),
        }[self.origin]

    def lines(self) -> Iterator[str]:
        for c in self.checks:
            mark = {True: "OK  ", False: "FAIL", None: "--  "}[c.ok]
            yield f"{mark} {c.name}"
            shown = c.notes[:MAX_LISTED]
            for note in shown:
                yield f"     {note}"
            if len(c.notes) > len(shown):
                yield f"     ... and {len(c.notes) - len(shown)} more"
        yield f"{self.verdict}: {self.pack}"


def verify(
    pack: Path,
    public_key: Path | None = None,
    previous: Path | None = None,
    *,
    trust: signing.Trust | None = None,
    integrity_only: bool = False,
) -> Verification:
    """Run every check on ``pack`` (a folder or its zip).

    ``trust``: the keys the verifier trusts (``public_key`` is a shorthand for one PEM key).
    ``integrity_only``: accept a signature without checking who made it (exit 0, said so)."""
    if public_key is not None:
        try:
            trust = signing.trust_from([str(public_key)], "--public-key")
        except InputError as exc:
            raise Unreadable("; ".join(str(p) for p in exc.problems)) from exc
    trust = signing.Trust() if integrity_only or trust is None else trust
    if not pack.exists():
        raise Unreadable(f"{pack}: no such file or folder")
    try:
        with open_pack(pack) as root:
            if not (root / MANIFEST).is_file():
                raise Unreadable(f"{pack}: not an evidence pack (no {MANIFEST})")
            prev = _previous(previous)
            signature, origin, signer = _signature(root, trust, integrity_only)
            checks = [_hashes(root), signature, _chain(root, previous, prev, signer),
                      _reevaluation(root)]
    except PackCorrupt as exc:  # the zip was altered: a failed check, not an unreadable pack
        check = Check(f"hashes: every file matches {MANIFEST}")
        check.fail(f"{exc.member}: corrupt in the zip ({exc.reason})")
        return Verification(pack, [check], Origin.UNSIGNED)
    except PackError as exc:
        raise Unreadable(str(exc)) from exc
    return Verification(pack, checks, origin, signer)


def _previous(previous: Path | None) -> Link | None:
    if previous is None:
        return None
    try:
        return read_link(previous)
    except PackError as exc:
        raise Unreadable(str(exc)) from exc


def _load_json(root: Path, rel: str, check: Check) -> Any:
    try:
        return json.loads((root / rel).read_bytes())
    except FileNotFoundError:
        check.fail(f"{rel}: missing")
    except (ValueError, UnicodeDecodeError) as exc:
        check.fail(f"{rel}: not valid JSON ({exc})")
    return None


def _exact(root: Path, rel: str, doc: dict[str, Any], fields: frozenset[str], fmt: str,
           check: Check) -> None:
    """A pack record holds exactly its fields, its format, and its canonical bytes."""
    if set(doc) != fields:
        extra, missing = sorted(set(doc) - fields), sorted(fields - set(doc))
        check.fail(f"{rel}: fields differ (unexpected {extra}, missing {missing})")
    if doc.get("format") != fmt:
        check.fail(f"{rel}: format {doc.get('format')!r} is not {fmt!r}")
    if (root / rel).read_bytes() != signing.render(doc).encode("utf-8"):
        check.fail(f"{rel}: not in its canonical form (bytes were edited)")


def _hashes(root: Path) -> Check:
    check = Check(f"hashes: every file matches {MANIFEST}")
    manifest = _load_json(root, MANIFEST, check)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        if check.ok:
            check.fail(f"{MANIFEST}: no 'files' table")
        return check
    assert isinstance(manifest, dict)
    _exact(root, MANIFEST, manifest, MANIFEST_FIELDS, FORMAT, check)
    if manifest.get("algorithm") != "sha256":
        check.fail(f"{MANIFEST}: algorithm {manifest.get('algorithm')!r} is not 'sha256'")
    for rel, digest in sorted(files.items()):
        parts = PurePosixPath(rel)
        if parts.is_absolute() or ".." in parts.parts or rel in SEALS:
            check.fail(f"{rel}: unsafe path in {MANIFEST}")
            continue
        path = root / rel
        if not path.is_file():
            check.fail(f"{rel}: missing")
        elif sha256_file(path) != digest:
            check.fail(f"{rel}: altered (SHA-256 differs from {MANIFEST})")
    for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        if rel not in files and rel not in SEALS:
            check.fail(f"{rel}: not listed in {MANIFEST}")
    _attested_reports(root, check)
    if check.ok:
        check.notes.append(f"{len(files)} files")
    return check


def _attested_reports(root: Path, check: Check) -> None:
    """Each attested restore test's report is in the pack with the SHA-256 its record holds
    (the manifest alone would not catch a report replaced and the manifest re-hashed)."""
    try:
        lines = (root / EVIDENCE).read_bytes().splitlines()
    except OSError:
        return  # the manifest check names the missing evidence file
    for n, line in enumerate(lines, start=1):
        if b'"attested"' not in line or ATTACHMENTS.encode() not in line:
            continue
        try:
            doc = json.loads(line)
            facts, ref = doc.get("facts") or {}, str(doc.get("raw_ref") or "")
        except (ValueError, AttributeError):
            continue  # the re-evaluation names an unreadable line
        if facts.get("attested") is not True or not ref.startswith(ATTACHMENTS + "/"):
            continue
        rel, _, digest = ref.partition("#sha256=")
        parts = PurePosixPath(rel)
        path = root / rel
        if ".." in parts.parts or not path.is_file():
            check.fail(f"{EVIDENCE} line {n}: attested report {rel} is not in the pack")
        elif not (sha256_file(path) == digest == facts.get("report_sha256")):
            check.fail(f"{EVIDENCE} line {n}: attested report {rel} does not match the "
                       f"SHA-256 its record holds ({str(facts.get('report_sha256'))[:12]}…)")


def _signature(root: Path, trust: signing.Trust, integrity_only: bool
               ) -> tuple[Check, Origin, str | None]:
    check = Check("signature: Ed25519 over manifest.json + chain.json, by a trusted key")
    chain = _load_json(root, CHAIN, Check("-"))
    record = chain.get("signing") if isinstance(chain, dict) else None
    path = root / SIGNATURE
    if not path.is_file():
        if record is not None:
            check.fail(f"{SIGNATURE}: missing, but {CHAIN} records a signature by key "
                       f"{_fp(record)}")
        elif trust:
            check.fail(f"{SIGNATURE}: missing: the pack is not signed, but trusted keys are "
                       f"configured ({trust.origin})")
        else:
            check.ok = None
            check.notes.append("pack is not signed: integrity only, no proof of origin")
        return check, Origin.UNSIGNED, None
    raw = path.read_bytes()
    doc = _load_json(root, SIGNATURE, check)
    if check.ok is False:
        return check, Origin.UNSIGNED, None
    try:
        problems, signer = signing.inspect(root, raw, doc, record)
    except OSError as exc:
        problems, signer = [f"cannot read the signed files: {exc}"], None
    for problem in problems:
        check.fail(f"{SIGNATURE}: {problem}")
    if signer is None:
        return check, Origin.UNSIGNED, None
    if integrity_only:
        check.ok = None
        check.notes.append(f"signed by key {signer}; not checked against a trusted key "
                           "(--integrity-only): no proof of origin")
        return check, Origin.INTEGRITY_ONLY, signer
    if not trust:
        check.ok = None
        check.notes.append(f"signature present, not checked: signed by key {signer}, but no "
                           f"trusted key is configured ({HOW_TO_TRUST})")
        return check, Origin.NOT_CHECKED, signer
    if not trust.trusts(signer):
        check.fail(f"{SIGNATURE}: signed by key {signer}, which is not a trusted key "
                   f"({trust.origin}: {', '.join(sorted(trust.fingerprints))})")
        return check, Origin.UNSIGNED, None
    check.notes.append(f"signed by trusted key {signer} ({trust.origin})")
    return check, Origin.TRUSTED, signer


def _fp(record: Any) -> str:
    return str(record.get("public_key_sha256")) if isinstance(record, dict) else repr(record)


def _chain(root: Path, previous: Path | None, prev: Link | None, signer: str | None) -> Check:
    check = Check("chain: links this manifest (and the previous pack)")
    chain = _load_json(root, CHAIN, check)
    if not isinstance(chain, dict):
        if check.ok:
            check.fail(f"{CHAIN}: not a chain record")
        return check
    if chain.get("format") == CHAIN_FORMAT_1:  # before the signer was recorded: unsigned only
        _exact(root, CHAIN, chain, CHAIN_FIELDS - {"signing"}, CHAIN_FORMAT_1, check)
    else:
        _exact(root, CHAIN, chain, CHAIN_FIELDS, CHAIN_FORMAT, check)
    try:
        manifest_sha = sha256_file(root / MANIFEST)
    except OSError:
        manifest_sha = ""
    if chain.get("manifest_sha256") != manifest_sha:
        check.fail(f"{CHAIN}: manifest_sha256 does not match {MANIFEST}")
    manifest = _load_json(root, MANIFEST, Check("-"))
    results = _load_json(root, RESULTS, Check("-"))
    run = results.get("run", {}) if isinstance(results, dict) else {}
    run_id = run.get("run_id") if isinstance(run, dict) else None
    if run_id is not None and chain.get("run_id") != run_id:
        check.fail(f"{CHAIN}: run_id {chain.get('run_id')} is not the run of {RESULTS}")
    if isinstance(manifest, dict) and manifest.get("run_id") != chain.get("run_id"):
        check.fail(f"{MANIFEST}: run_id {manifest.get('run_id')} is not that of {CHAIN}")
    if isinstance(results, dict) and results.get("as_of") != chain.get("as_of"):
        check.fail(f"{CHAIN}: as_of {chain.get('as_of')} is not that of {RESULTS}")
    link = chain.get("previous")
    if previous is None or prev is None:
        if isinstance(link, dict):
            check.notes.append(
                f"links to run {link.get('run_id')} (sequence {link.get('sequence')}); "
                "pass --previous to check that link"
            )
        elif link is None:
            check.notes.append("first pack of its chain")
        else:
            check.fail(f"{CHAIN}: previous is not a link record")
        return check
    if not isinstance(link, dict):
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
    declared = _fp(chain["signing"]) if isinstance(chain.get("signing"), dict) else None
    if prev.signed_by and not declared:
        check.fail(f"{CHAIN}: the previous pack was signed by key {prev.signed_by}; this one is "
                   "not signed (a signature was removed?)")
    elif prev.signed_by and signer and signer != prev.signed_by:
        check.notes.append(f"signing key changed: {prev.signed_by} -> {signer}")
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
    info = RunInfo(as_of=as_of, started_at=as_of, run_id="-")
    again = results_json.to_document(ev, info)
    if set(recorded) != set(again):
        check.fail(f"{RESULTS}: fields differ from a results document "
                   f"(unexpected {sorted(set(recorded) - set(again))}, "
                   f"missing {sorted(set(again) - set(recorded))})")
    _derived(root, contract_info.get("sha256"), ev, info, check)
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


def _derived(root: Path, digest: Any, ev: Any, info: RunInfo, check: Check) -> None:
    """The files the pack derives from the contract and the evaluation: rebuilt, compared."""
    try:
        if (root / CONTRACT_SHA256).read_text(encoding="utf-8") != contract_digest_line(
            str(digest)
        ):
            check.fail(f"{CONTRACT_SHA256}: is not the digest of {CONTRACT}")
    except (OSError, UnicodeDecodeError):
        check.fail(f"{CONTRACT_SHA256}: missing or unreadable")
    waivers = _load_json(root, WAIVERS, check)
    if waivers != waivers_document(build_view(ev, info).waivers):
        check.fail(f"{WAIVERS}: differs from the waivers the re-evaluation finds in force")


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
