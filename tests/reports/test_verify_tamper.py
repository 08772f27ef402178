"""Tamper attacks against ``verify``, for three kinds of pack, and what verify says of each.

Pack kinds (``MODES``): a signed pack checked against its trusted key (with ``--previous``); a
signed pack checked with no trusted key (without and with ``--previous``); an unsigned pack.
Attacks: a byte flipped in each file; each file edited and the manifest and chain rewritten
(signature kept, removed, or re-made with the forger's key); a complete forgery evaluated again
on edited evidence and chained to the genuine previous pack; edits of every field of
``signature.json``; a file removed; a file added.

What must hold: only the genuine signed pack checked against its trusted key says VERIFIED
without qualification (origin ``TRUSTED``); with a trusted key every attack fails; without one no
attack is ever reported as signed, and exit 0 is only given with the words "unsigned: integrity
only, no proof of origin". ``CLAUSEWATCH_TAMPER_REPORT=FILE`` writes the tally of every attack
(run with ``-n 0``: the tally is of the attacks run in one process).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_packs import build, keypair, write_raw

from clausewatch.core.evidence import Evidence
from clausewatch.reports import signing
from clausewatch.reports.evidence_pack import SEALS, sha256_file
from clausewatch.reports.verify import (
    VERIFY_FAILED,
    VERIFY_NOT_CHECKED,
    VERIFY_OK,
    VERIFY_UNREADABLE,
    Origin,
    Unreadable,
    _signature,
    verify,
)

UNSIGNED_WORDS = "VERIFIED (unsigned: integrity only, no proof of origin)"
Mutate = Callable[[Path, "World"], None]


@dataclass(frozen=True)
class World:
    signed: Path
    signed_prev: Path
    unsigned: Path
    unsigned_prev: Path
    trust: signing.Trust
    forger: object  # Ed25519PrivateKey
    forged_case: object
    tmp: Path


@dataclass(frozen=True)
class Mode:
    name: str
    signed: bool
    trusted: bool
    previous: bool


MODES = (
    Mode("signed, trusted key, --previous", signed=True, trusted=True, previous=True),
    Mode("signed, no key", signed=True, trusted=False, previous=False),
    Mode("signed, no key, --previous", signed=True, trusted=False, previous=True),
    Mode("unsigned, --previous", signed=False, trusted=False, previous=True),
)


def _forged_case(case):
    """The same run, but bob's MFA is said to be enforced: evaluated again, a new run id."""
    from clausewatch.checks.engine import evaluate
    from clausewatch.core.evidence import CollectionError

    records = []
    for r in case.records:
        if isinstance(r, Evidence) and r.subject == "bob@client.test":
            r = dataclasses.replace(r, facts={**r.facts, "mfa_enforced": True})
        records.append(r)
    evidence = [r for r in records if isinstance(r, Evidence)]
    errors = [r for r in records if isinstance(r, CollectionError)]
    ev = evaluate(case.ev.contract, evidence, errors, case.ev.as_of)
    info = dataclasses.replace(case.info, run_id="f" * 32)
    return dataclasses.replace(case, records=records, ev=ev, info=info)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from report_case import build_case

    case = build_case()
    root = tmp_path_factory.mktemp("tamper")
    key, _private, public = keypair(root)
    forger, _fp, _fpub = keypair(root, "forger")
    raw = write_raw(root / "raw")
    signed_prev = build(case, root / "sprev", signing_key=key)
    signed = build(case, root / "scur", signing_key=key, previous=signed_prev, raw_dir=raw)
    unsigned_prev = build(case, root / "uprev")
    unsigned = build(case, root / "ucur", previous=unsigned_prev, raw_dir=raw)
    trust = signing.trust_from([str(public)], "test")
    return World(signed, signed_prev, unsigned, unsigned_prev, trust, forger,
                 _forged_case(case), root)


# --- the attacks ---------------------------------------------------------------------------


def _files(pack: Path) -> list[str]:
    return sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())


def _flip(rel: str) -> Mutate:
    def mutate(root: Path, _w: World) -> None:
        data = bytearray((root / rel).read_bytes())
        data[len(data) // 2] ^= 0x01
        (root / rel).write_bytes(bytes(data))

    return mutate


def _edit(root: Path, rel: str) -> None:
    """A plausible edit of one file (a forger's, not noise)."""
    path = root / rel
    if rel == "evidence/evidence.jsonl":
        lines = path.read_text().splitlines()
        i = next(n for n, line in enumerate(lines)
                 if json.loads(line).get("subject") == "bob@client.test")
        record = json.loads(lines[i])
        record["facts"]["mfa_enforced"] = True
        lines[i] = json.dumps(record, sort_keys=True)
        path.write_text("\n".join(lines) + "\n")
    elif rel.endswith(".json"):
        doc = json.loads(path.read_text())
        if isinstance(doc, list):
            doc.append({"reference": "FORGED"})
        else:
            doc["edited_by"] = "someone"
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n# edited after the run\n")


def _reseal(root: Path, w: World, signature: str) -> None:
    """Rewrite the manifest and chain as ClauseWatch would; ``signature``: keep, strip, resign."""
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"] = {rel: sha256_file(root / rel) for rel in _files(root) if rel not in SEALS}
    (root / "manifest.json").write_text(signing.render(manifest))
    chain = json.loads((root / "chain.json").read_text())
    chain["manifest_sha256"] = sha256_file(root / "manifest.json")
    if signature in ("strip", "resign"):
        chain["signing"] = signing.signing_record(w.forger) if signature == "resign" else None
        (root / "signature.json").unlink(missing_ok=True)
    (root / "chain.json").write_text(signing.render(chain))
    if signature == "resign":
        doc = signing.sign(root, w.forger)  # type: ignore[arg-type]
        (root / "signature.json").write_text(signing.render(doc))


def _rehash(rel: str, signature: str) -> Mutate:
    def mutate(root: Path, w: World) -> None:
        _edit(root, rel)
        _reseal(root, w, signature)

    return mutate


def _forgery(variant: str, signed_chain: bool) -> Mutate:
    """Evaluate the edited evidence again and build a whole new pack chained to the genuine
    previous one; ``variant``: unsigned, forger-signed, or with the genuine signature copied."""

    def mutate(root: Path, w: World) -> None:
        previous = w.signed_prev if signed_chain else w.unsigned_prev
        genuine_signature = root / "signature.json"
        copied = genuine_signature.read_bytes() if genuine_signature.is_file() else b""
        out = w.tmp / f"forgery-{os.getpid()}-{len(list(w.tmp.iterdir()))}"
        key = w.forger if variant == "forger-signed" else None
        pack = build(w.forged_case, out, signing_key=key, previous=previous,
                     raw_dir=write_raw(out.parent / (out.name + "-raw")))
        shutil.rmtree(root)
        shutil.copytree(pack, root)
        if variant == "genuine signature copied" and copied:
            (root / "signature.json").write_bytes(copied)
            chain = json.loads((root / "chain.json").read_text())
            chain["signing"] = json.loads((previous / "chain.json").read_text())["signing"]
            (root / "chain.json").write_text(signing.render(chain))

    return mutate


def _signature_edit(change: Callable[[dict, World], object]) -> Mutate:
    def mutate(root: Path, w: World) -> None:
        doc = json.loads((root / "signature.json").read_text())
        text = change(doc, w)
        (root / "signature.json").write_text(text if isinstance(text, str) else
                                             signing.render(doc))

    return mutate


def _other_signature(doc: dict, w: World) -> None:
    doc["signature"] = base64.b64encode(w.forger.sign(b"something else")).decode()  # type: ignore[attr-defined]


def _non_canonical_base64(doc: dict, _w: World) -> None:
    sig = doc["signature"]  # 88 chars, "==" padded: the last data char carries 4 spare bits
    last = sig[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    doc["signature"] = sig[:-3] + alphabet[alphabet.index(last) ^ 0x01] + sig[-2:]


SIGNATURE_EDITS: dict[str, Callable[[dict, World], object]] = {
    "format set to /1": lambda d, w: d.update(format="clausewatch-signature/1"),
    "format one letter changed": lambda d, w: d.update(format=d["format"].replace("w", "W")),
    "algorithm lower-cased": lambda d, w: d.update(algorithm="ed25519"),
    "signed_files reversed": lambda d, w: d.update(signed_files=d["signed_files"][::-1]),
    "signed_files only the manifest": lambda d, w: d.update(signed_files=["manifest.json"]),
    "public_key_sha256 of the forger": lambda d, w: d.update(
        public_key_sha256=signing.fingerprint(w.forger.public_key())),  # type: ignore[attr-defined]
    "public_key_sha256 upper-cased": lambda d, w: d.update(
        public_key_sha256=d["public_key_sha256"].upper()),
    "signature over another message": _other_signature,
    "signature non-canonical base64": _non_canonical_base64,
    "extra field": lambda d, w: d.update(comment="approved"),
    "field removed": lambda d, w: d.pop("format"),
    "re-indented": lambda d, w: json.dumps(d, indent=4, sort_keys=True) + "\n",
    "unicode-escaped": lambda d, w: signing.render(d).replace("Ed25519", "\\u0045d25519"),
}


def _remove(rel: str) -> Mutate:
    return lambda root, _w: (root / rel).unlink()


def _add(rel: str, text: str = "extra\n") -> Mutate:
    def mutate(root: Path, _w: World) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)

    return mutate


def attacks(mode: Mode, pack: Path) -> Iterator[tuple[str, str, Mutate]]:
    """(family, name, mutate) of every attack against ``pack``."""
    files = _files(pack)
    for rel in files:
        yield "byte flip", rel, _flip(rel)
    resealings = ("keep", "strip", "resign") if mode.signed else ("plain", "resign")
    for rel in (f for f in files if f not in SEALS):
        for how in resealings:
            yield f"re-hashed edit ({how})", rel, _rehash(rel, how)
    variants = ("unsigned", "forger-signed") + (
        ("genuine signature copied",) if mode.signed else ())
    for variant in variants:
        yield "full forgery chained to the genuine previous", variant, _forgery(variant,
                                                                                 mode.signed)
    if mode.signed:
        for name, change in SIGNATURE_EDITS.items():
            yield "signature.json field edit", name, _signature_edit(change)
    for rel in files:
        yield "file removed", rel, _remove(rel)
    yield "file added", "extra.txt", _add("extra.txt")
    yield "file added", "reports/extra.html", _add("reports/extra.html", "<p>x</p>\n")
    if not mode.signed:
        yield "file added", "signature.json (forger's)", _add(
            "signature.json", signing.render({"format": signing.FORMAT}))


# --- running them --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    mode: str
    family: str
    attack: str
    exit_code: int
    verdict: str
    origin: Origin | None


def _run(mode: Mode, w: World, pack: Path) -> tuple[int, str, Origin | None]:
    previous = (w.signed_prev if mode.signed else w.unsigned_prev) if mode.previous else None
    trust = w.trust if mode.trusted else signing.Trust()
    try:
        result = verify(pack, previous=previous, trust=trust)
    except Unreadable as exc:
        return VERIFY_UNREADABLE, f"unreadable: {exc}", None
    return result.exit_code, result.verdict, result.origin


TALLY: list[Outcome] = []


@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
def test_every_attack(mode: Mode, world: World, tmp_path: Path) -> None:
    pack = world.signed if mode.signed else world.unsigned
    code, verdict, _origin = _run(mode, world, pack)
    expected = (VERIFY_OK if mode.trusted else VERIFY_NOT_CHECKED) if mode.signed else VERIFY_OK
    assert code == expected, verdict
    if not mode.signed:
        assert verdict == UNSIGNED_WORDS
    outcomes = []
    for n, (family, name, mutate) in enumerate(attacks(mode, pack)):
        root = tmp_path / f"a{n}"
        shutil.copytree(pack, root)
        mutate(root, world)
        outcomes.append(Outcome(mode.name, family, name, *_run(mode, world, root)))
        shutil.rmtree(root)
    TALLY.extend(outcomes)
    for o in outcomes:
        where = f"{o.family}: {o.attack} -> {o.exit_code} {o.verdict}"
        if o.exit_code == VERIFY_OK:  # never "signed by a trusted key"
            assert o.verdict == UNSIGNED_WORDS and o.origin is not Origin.TRUSTED, where
        if mode.trusted:
            assert o.exit_code in (VERIFY_FAILED, VERIFY_UNREADABLE), where
    by = {(o.family, o.attack): o for o in outcomes}
    # specific verdicts, so a regression shows which attack it lets through
    for o in outcomes:
        if o.family == "byte flip" or o.family.startswith("file "):
            assert o.exit_code in (VERIFY_FAILED, VERIFY_UNREADABLE), o
        if o.family == "signature.json field edit":
            assert o.exit_code == VERIFY_FAILED, o  # with or without a key
        if o.family == "re-hashed edit (keep)":
            assert o.exit_code == VERIFY_FAILED, o  # the signature no longer matches
        if o.family == "re-hashed edit (resign)" and not mode.trusted:
            assert o.exit_code in (VERIFY_NOT_CHECKED, VERIFY_FAILED), o
    if mode.signed and not mode.trusted and not mode.previous:
        # stripping the signature leaves an unsigned pack: verified, but said to be unsigned
        assert by[("re-hashed edit (strip)", "run.json")].verdict == UNSIGNED_WORDS
    if mode.signed and mode.previous:
        # ...but not after a signed previous pack: a removed signature is caught by the chain
        for o in outcomes:
            if o.family == "re-hashed edit (strip)":
                assert o.exit_code == VERIFY_FAILED, o
        forged = by[("full forgery chained to the genuine previous", "unsigned")]
        assert forged.exit_code == VERIFY_FAILED
    if not mode.signed:
        # integrity only: a verdict-neutral re-hashed edit of run.json cannot be told apart
        assert by[("re-hashed edit (plain)", "run.json")].verdict == UNSIGNED_WORDS
        assert by[("re-hashed edit (plain)", "evidence/evidence.jsonl")].exit_code == 5


def test_every_single_byte_flip_of_signature_json_fails_with_or_without_a_key(world, tmp_path):
    """Each byte of signature.json, flipped (the `format` value used to pass unchecked).

    Only the signature check reads signature.json, so it alone is run for each flip."""
    root = tmp_path / "p"
    shutil.copytree(world.signed, root)
    genuine = (root / "signature.json").read_bytes()
    tried = 0
    for i in range(len(genuine)):
        for bit in (0x01, 0x20):
            data = bytearray(genuine)
            data[i] ^= bit
            (root / "signature.json").write_bytes(bytes(data))
            for trust in (world.trust, signing.Trust()):
                check, origin, _signer = _signature(root, trust, False)
                assert check.ok is False, (i, bit, bytes(data[max(0, i - 10): i + 10]))
                assert origin is not Origin.TRUSTED
            tried += 1
    assert tried == 2 * len(genuine) > 600
    (root / "signature.json").write_bytes(genuine)
    assert _signature(root, world.trust, False)[1] is Origin.TRUSTED


@pytest.fixture(scope="module", autouse=True)
def tally_report() -> Iterator[None]:
    """After this module's tests, ``CLAUSEWATCH_TAMPER_REPORT=FILE`` gets the count of attacks
    and what verify said, by pack kind (of the attacks run in this process: use ``-n 0`` for
    all). What it counts is asserted attack by attack in ``test_every_attack``."""
    yield
    target = os.environ.get("CLAUSEWATCH_TAMPER_REPORT")
    if not target:
        return
    lines = []
    for mode in MODES:
        rows = [o for o in TALLY if o.mode == mode.name]
        lines.append(f"## {mode.name}: {len(rows)} attacks")
        counts = Counter((o.family, o.exit_code, o.verdict.split(" (")[0].split(":")[0])
                         for o in rows)
        for (family, code, verdict), n in sorted(counts.items()):
            lines.append(f"- {family}: {n} x exit {code} {verdict}")
        passed = [o for o in rows if o.exit_code == VERIFY_OK]
        for o in passed:
            lines.append(f"  - exit 0: {o.family}: {o.attack}: {o.verdict}")
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")
