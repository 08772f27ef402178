"""The evidence pack: everything an auditor needs to check a run, sealed by hashes.

Layout (``LAYOUT``)::

    README.md                      how to read and verify the pack (English, then French)
    run.json                       tool version, as_of, start/end, sources and endpoints,
                                   identities the collectors ran as, host, evidence summary
    contract/contract.yaml         the contract file exactly as evaluated
    contract/contract.yaml.sha256  its digest (sha256sum format)
    evidence/evidence.jsonl        normalised evidence and collection errors
    raw/                           raw API pages, secrets masked (README.txt when none)
    attachments/                   files evidence rests on, byte for byte: the signed reports
                                   of attested restore tests (their raw_ref, with SHA-256)
    results/results.json           verdicts and per-subject results
    results/waivers-in-force.json  waivers applying at as_of
    reports/                       one file per output format written (report.html,
                                   summary.md, ...: ``reports.formats.FORMATS``)
    manifest.json                  SHA-256 of every file above
    chain.json                     this manifest's digest, linked to the previous pack's
    signature.json                 Ed25519 over manifest.json + chain.json (when a key is set);
                                   chain.json then names the signer's public key, so it is signed

The pack is built inside a staging folder and renamed into place (``reports.output``), and every
file is scanned for known secret values before the manifest is written: a leak aborts the pack.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import logging
import os
import platform
import socket
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import compress
from operator import attrgetter, not_
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.redact import Redactor
from clausewatch.core.run import RunInfo
from clausewatch.reports import pack_zip, signing
from clausewatch.reports.formats import FORMATS
from clausewatch.reports.i18n import Catalogue, pick_language
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.results_json import iso
from clausewatch.reports.streams import file_chunks
from clausewatch.reports.templating import environment
from clausewatch.reports.view import WaiverRow, build_view, waiver_in_force

log = logging.getLogger(__name__)
FORMAT = "clausewatch-evidence-pack/1"
MANIFEST, CHAIN, SIGNATURE = "manifest.json", "chain.json", "signature.json"
CHAIN_FORMAT = "clausewatch-chain/2"
MANIFEST_FIELDS = frozenset({"format", "algorithm", "run_id", "files"})
CHAIN_FIELDS = frozenset(
    {"format", "run_id", "as_of", "manifest_sha256", "sequence", "previous", "signing"}
)
#: Files outside the manifest (they seal it).
SEALS = frozenset({MANIFEST, CHAIN, SIGNATURE})
CONTRACT = "contract/contract.yaml"
CONTRACT_SHA256 = CONTRACT + ".sha256"
EVIDENCE = "evidence/evidence.jsonl"
RESULTS = "results/results.json"
WAIVERS = "results/waivers-in-force.json"
RUN = "run.json"
RAW = "raw"
ATTACHMENTS = "attachments"
REPORTS = "reports"
PACK_DIR, PACK_ZIP = "evidence-pack", "evidence-pack.zip"


class PackError(Exception):
    """The pack cannot be written as asked (a secret would leak, a previous pack is unreadable)."""


class PackCorrupt(PackError):
    """A member of a zipped pack does not read back (bad CRC, damaged data): named."""

    def __init__(self, pack: Path, member: str, reason: str) -> None:
        super().__init__(f"{pack}: member {member}: {reason}")
        self.member = member
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PackInfo:
    path: Path
    manifest_sha256: str
    sequence: int
    signed: bool
    files: int


@dataclass(frozen=True, slots=True)
class Link:
    """What a pack's chain record says of the pack before it."""

    run_id: str
    as_of: str
    manifest_sha256: str
    chain_sha256: str
    sequence: int
    ref: str = ""
    signed_by: str | None = None  # fingerprint of the key that signed that pack (not recorded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "manifest_sha256": self.manifest_sha256,
            "chain_sha256": self.chain_sha256,
            "sequence": self.sequence,
            "ref": self.ref,
        }


@dataclass(slots=True)
class _Writer:
    root: Path
    redactor: Redactor
    written: list[str] = field(default_factory=list)

    def text(self, rel: str, text: str) -> None:
        self.bytes(rel, text.encode("utf-8"))

    def bytes(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written.append(rel)

    def json(self, rel: str, doc: Any) -> None:
        self.text(rel, signing.render(doc))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    for block in file_chunks(path):
        h.update(block)
    return h.hexdigest()


def build_pack(
    dest: Path,
    *,
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    contract_bytes: bytes,
    streamed: Mapping[str, str],
    reports: Mapping[str, bytes],
    options: PackOptions | None = None,
    scanned: Iterable[str] = (),
) -> PackInfo:
    """Write a complete pack into the folder ``dest``.

    ``streamed``: the files the caller already put into ``dest``, by pack path, with the
    SHA-256 taken while writing them: ``evidence/evidence.jsonl`` and ``results/results.json``
    at least, and the reports (``reports.publish``: links to the output folder's files); they
    are scanned for secrets like every other file, and their digests go into the manifest as
    taken; those named in ``scanned`` the caller scanned for secrets as it wrote them
    (``pack_redactor``'s values, ``leak_error`` on a find) and are not read again for it.
    ``reports``: the rendered output formats, by file name (under ``reports/``; those
    not in ``streamed`` are written here).

    ``dest`` should sit inside a staging folder (see ``write_pack``) so that a failure leaves no
    half-written pack where a reader could take it for a real one.
    """
    options = options or PackOptions()
    redactor = pack_redactor(options)
    previous = _previous_link(options)
    dest.mkdir(parents=True, exist_ok=True)
    w = _Writer(dest, redactor)
    lang = pick_language(options.lang, ev.contract.language)
    view = build_view(ev, info, lang)
    contract_digest = sha256_bytes(contract_bytes)

    w.bytes(CONTRACT, contract_bytes)
    w.text(CONTRACT_SHA256, contract_digest_line(contract_digest))
    missing = [rel for rel in (EVIDENCE, RESULTS) if rel not in streamed]
    if missing or not all((dest / rel).is_file() for rel in streamed):
        raise PackError(f"the pack's record files were not written first: {missing or streamed}")
    w.written.extend(streamed)
    w.json(WAIVERS, waivers_document(view.waivers))
    raw_count = _copy_raw(w, options.raw_dir)
    attachments = _copy_attachments(w, options.attachments_dir)
    for name, data in sorted(reports.items()):
        if f"{REPORTS}/{name}" not in streamed:
            w.bytes(f"{REPORTS}/{name}", data)
    w.json(RUN, _run_metadata(ev, info, records, contract_digest, lang, options, raw_count))
    w.text("README.md", _readme(ev, info, contract_digest, options, reports, previous,
                                raw_count, attachments, lang))

    _assert_no_leak(dest, redactor, skip=frozenset(scanned))
    files = {rel: streamed.get(rel) or sha256_file(dest / rel) for rel in sorted(_walk(dest))}
    manifest = {"format": FORMAT, "algorithm": "sha256", "run_id": info.run_id, "files": files}
    w.json(MANIFEST, manifest)
    manifest_sha = sha256_file(dest / MANIFEST)
    sequence = previous.sequence + 1 if previous else 1
    w.json(
        CHAIN,
        {
            "format": CHAIN_FORMAT,
            "run_id": info.run_id,
            "as_of": iso(ev.as_of),
            "manifest_sha256": manifest_sha,
            "sequence": sequence,
            "previous": previous.to_dict() if previous else None,
            "signing": (
                signing.signing_record(options.signing_key) if options.signing_key else None
            ),
        },
    )
    if options.signing_key is not None:
        w.text(SIGNATURE, signing.render(signing.sign(dest, options.signing_key)))
    return PackInfo(dest, manifest_sha, sequence, options.signing_key is not None, len(files))


def pack_redactor(options: PackOptions) -> Redactor:
    """What the pack must not hold: the run's known secrets and the signing key's forms."""
    secrets = list(options.secrets)
    if options.signing_key is not None:
        secrets += _key_secrets(options.signing_key)
    return Redactor(secrets)


def leak_error(found: Sequence[str], rel: str) -> PackError:
    """The error a secret found in the pack's file ``rel`` aborts the pack with."""
    return PackError(f"secret value {found[0]} would leak into {rel}; pack not written")


def waivers_document(rows: Sequence[WaiverRow]) -> list[dict[str, Any]]:
    """``results/waivers-in-force.json``: the waivers applying at as_of (``verify`` rebuilds
    it from the re-evaluation and compares)."""
    return [
        {
            "commitment": r.commitment,
            "clause": r.clause,
            "subjects": list(r.subjects),
            "reason": r.reason,
            "approver": r.approver,
            "granted": iso(r.granted),
            "expires": iso(r.expires),
            "reference": r.reference,
            "days_left": r.days_left,
            "applied_to": list(r.applied_to),
        }
        for r in waiver_in_force(rows)
    ]


def contract_digest_line(digest: str) -> str:
    """``contract/contract.yaml.sha256`` (sha256sum format)."""
    return f"{digest}  contract.yaml\n"


def _key_secrets(key: Ed25519PrivateKey) -> list[str]:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return [body, raw.hex()]


def _walk(root: Path) -> Iterator[str]:
    for path in root.rglob("*"):
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            if rel not in SEALS:
                yield rel


def _copy_raw(w: _Writer, raw_dir: Path | None) -> int:
    """Copy raw API pages, redacted: JSON through key and value masking, other text by value."""
    if raw_dir is None or not raw_dir.is_dir():
        w.text(
            f"{RAW}/README.txt",
            "No raw API pages were recorded for this run (the demo's evidence is synthetic).\n"
            "Aucune page brute d'API n'a été enregistrée pour cette exécution (les preuves de "
            "la démo sont synthétiques).\n",
        )
        return 0
    n = 0
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(raw_dir).as_posix()
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise PackError(f"raw page {path} is not UTF-8 text; cannot redact it") from None
        w.text(
            f"{RAW}/{rel}",
            w.redactor.json_text(text) if rel.endswith(".json") else w.redactor.text(text),
        )
        n += 1
    return n


def _copy_attachments(w: _Writer, folder: Path | None) -> int:
    """Copy the files evidence rests on (attested reports) byte for byte: their SHA-256 is
    what the evidence records, so they are not redacted; the leak scan still reads them."""
    if folder is None or not folder.is_dir():
        return 0
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        w.bytes(f"{ATTACHMENTS}/{path.relative_to(folder).as_posix()}", path.read_bytes())
    return len(files)


def host_facts() -> dict[str, str]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _run_metadata(
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    contract_digest: str,
    lang: str,
    options: PackOptions,
    raw_count: int,
) -> dict[str, Any]:
    summary = evidence_summary(records)
    run = info.to_dict()
    inputs = dict(run.pop("inputs") or {})
    doc = {
        "format": "clausewatch-run/1",
        **run,
        "language": lang,
        "inputs": inputs,
        "sources": inputs.get("sources", []),
        "host": dict(options.host) if options.host is not None else host_facts(),
        "contract": {
            "id": ev.contract.id,
            "file": CONTRACT,
            "sha256": contract_digest,
            "digest_as_loaded": ev.contract.digest,
        },
        "evidence": {"file": EVIDENCE, "records": ev.evidence_count, "by_source": summary},
        "collection_errors": len(ev.errors),
        "raw_pages": raw_count,
        "overall_status": str(ev.status),
        "signing": (
            {
                "algorithm": signing.ALGORITHM,
                "public_key_sha256": signing.fingerprint(options.signing_key.public_key()),
            }
            if options.signing_key is not None
            else None
        ),
    }
    return Redactor(options.secrets).data(doc)  # type: ignore[no-any-return]


_SOURCE_ORIGIN = attrgetter("source", "origin")
_SOURCE_KIND_ORIGIN = attrgetter("source", "kind", "origin")


def evidence_summary(records: Sequence[Evidence | CollectionError]) -> dict[str, Any]:
    """run.json's ``evidence.by_source``: per source, its records by kind, its collection
    errors and the origins of both (sorted). Records are counted by (source, kind, origin)
    in one pass (``Counter``), then folded: a million records share a few triples."""
    error_types = {t for t in set(map(type, records)) if issubclass(t, CollectionError)}
    if error_types:  # which records are errors, in C (``map``, ``compress``, ``Counter``)
        is_error = list(map(error_types.__contains__, map(type, records)))
        errors = Counter(map(_SOURCE_ORIGIN, compress(records, is_error)))
        kept: Iterable[Evidence | CollectionError] = compress(records, map(not_, is_error))
    else:
        errors, kept = Counter(), records
    triples = Counter(map(_SOURCE_KIND_ORIGIN, kept))
    by_source: dict[str, dict[str, Any]] = {}

    def entry(source: str) -> dict[str, Any]:
        return by_source.setdefault(
            source, {"records": 0, "kinds": {}, "origins": set(), "errors": 0})

    for (source, kind, origin), n in triples.items():
        e = entry(source)
        e["records"] += n
        e["kinds"][kind] = e["kinds"].get(kind, 0) + n
        if origin:
            e["origins"].add(origin)
    for (source, origin), n in errors.items():
        e = entry(source)
        e["errors"] += n
        e["origins"].add(origin)
    return {s: {**e, "origins": sorted(e["origins"])} for s, e in sorted(by_source.items())}


def _readme(
    ev: Evaluation,
    info: RunInfo,
    contract_digest: str,
    options: PackOptions,
    reports: Mapping[str, bytes],
    previous: Link | None = None,
    raw_pages: int = 0,
    attachments: int = 0,
    lang: str = "en",
) -> str:
    """The pack's README, describing only what the pack holds: its ``reports/`` rows name the
    formats in the pack (from the registry); ``raw/``, ``signature.json``, the signature check
    and the chain link appear only when the pack has them."""
    fp = (
        signing.fingerprint(options.signing_key.public_key())
        if options.signing_key is not None
        else None
    )
    formats = [f for f in FORMATS if f.file_name in reports]
    return environment().get_template("pack-readme.md.j2").render(
        lang=lang,
        status_text=Catalogue(lang).status(str(ev.status)),
        reports=[
            {
                "path": f"{REPORTS}/{f.file_name}",
                "en": f.description["en"],
                "fr": f.description.get("fr", f.description["en"]),
            }
            for f in formats
        ],
        contract=ev.contract,
        as_of=iso(ev.as_of),
        run_id=info.run_id,
        version=info.tool_version,
        contract_sha256=contract_digest,
        fingerprint=fp,
        status=str(ev.status),
        previous=previous,
        raw_pages=raw_pages,
        attachments=attachments,
    )


def _assert_no_leak(root: Path, redactor: Redactor, skip: frozenset[str] = frozenset()) -> None:
    """Every file of the pack but those in ``skip`` (scanned as written), read a block at a
    time, holds none of the known secrets."""
    if not redactor.values:
        return
    for rel in sorted(_walk(root)):
        if rel in skip:
            continue
        found = redactor.leaks_in(file_chunks(root / rel))
        if found:
            raise leak_error(found, rel)


# --- chain ---------------------------------------------------------------------------------


def read_link(pack: Path) -> Link:
    """The chain link to ``pack`` (a folder or a zip): its manifest and chain digests."""
    with open_pack(pack) as root:
        try:
            manifest = (root / MANIFEST).read_bytes()
            chain_bytes = (root / CHAIN).read_bytes()
            chain = json.loads(chain_bytes)
            return Link(
                signed_by=_signer(root, chain),
                run_id=str(chain["run_id"]),
                as_of=str(chain["as_of"]),
                manifest_sha256=sha256_bytes(manifest),
                chain_sha256=sha256_bytes(chain_bytes),
                sequence=int(chain["sequence"]),
                ref=pack.name,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PackError(f"previous pack {pack} is unreadable: {exc}") from exc


def _signer(root: Path, chain: Mapping[str, Any]) -> str | None:
    """The fingerprint a pack says it was signed by (chain record, else signature.json)."""
    record = chain.get("signing")
    if isinstance(record, Mapping) and record.get("public_key_sha256"):
        return str(record["public_key_sha256"])
    if not (root / SIGNATURE).is_file():
        return None
    try:
        doc = json.loads((root / SIGNATURE).read_bytes())
    except (OSError, ValueError):
        doc = None
    fp = doc.get("public_key_sha256") if isinstance(doc, dict) else None
    return str(fp) if fp else "an unreadable key record"


def latest_pack(history: Path) -> Path | None:
    """The newest pack in a history folder (highest chain sequence, then as_of): a kept zip
    (``evidence-pack-<date>-<seq>.zip``) or a pack folder (the layout before)."""
    best: tuple[int, str, str] | None = None
    found = None
    if not history.is_dir():
        return None
    for child in history.iterdir():
        if child.name.startswith("."):
            continue
        kept = child.is_file() and child.name.startswith("evidence-pack-") \
            and child.suffix == ".zip"
        if not (kept or (child / CHAIN).is_file()):
            continue
        try:
            with open_pack(child) as root:
                chain = json.loads((root / CHAIN).read_text(encoding="utf-8"))
            key = (int(chain["sequence"]), str(chain["as_of"]), child.name)
        except (OSError, ValueError, KeyError, TypeError, PackError, zipfile.BadZipFile):
            continue
        if best is None or key > best:
            best, found = key, child
    return found


def kept_name(as_of: datetime, sequence: int) -> str:
    """``evidence-pack-2026-11-22-0042.zip``: the night's date (UTC) and the chain sequence."""
    return f"evidence-pack-{as_of.astimezone(UTC):%Y-%m-%d}-{sequence:04d}.zip"


def _previous_link(options: PackOptions) -> Link | None:
    if options.previous is not None:
        if options.previous_optional and not (options.previous / CHAIN).is_file():
            return None  # the output folder holds no pack yet: a new chain
        try:
            return read_link(options.previous)
        except PackError as exc:
            if not options.previous_optional:
                raise
            log.warning("%s; this pack starts a new chain", exc)
            return None
    if options.history is not None:
        latest = latest_pack(options.history)
        return read_link(latest) if latest else None
    return None


def kept_target(pack: Path, history: Path) -> Path:
    """Where ``pack`` (a folder) is kept in a ``--pack-history`` folder: its chain's date and
    sequence name it (``kept_name``)."""
    chain = json.loads((pack / CHAIN).read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(str(chain["as_of"]).replace("Z", "+00:00"))
    return history / kept_name(as_of, int(chain["sequence"]))


def keep_pack(pack: Path, target: Path) -> Path:
    """Keep the pack folder ``pack`` as the zip ``target``, never replacing another file.

    The zip is linked into place only if no file has that name, so a pack a later chain points
    to is never replaced (``PackError``). The same pack kept twice (a publication completed
    after a kill) finds its own bytes there and is done."""
    chain = json.loads((pack / CHAIN).read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(str(chain["as_of"]).replace("Z", "+00:00"))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        zip_pack(pack, Path(tmp), as_of)
        try:
            os.link(tmp, target)
        except FileExistsError:
            if not filecmp.cmp(target, tmp, shallow=False):
                raise PackError(
                    f"{target} already exists and holds another pack; kept packs are never "
                    "replaced"
                ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def archive_pack(pack: Path, history: Path, run_id: str, as_of: datetime) -> Path:
    """Keep a finished pack in the history folder as ``evidence-pack-<date>-<seq>.zip``
    (``keep_pack``); ``run_id`` and ``as_of`` are the run's, for the caller's records."""
    del run_id, as_of  # the pack's own chain names it
    return keep_pack(pack, kept_target(pack, history))


# --- zip -----------------------------------------------------------------------------------


#: Pack files zipped first, in this order (``reports.pack_zip``): the run's big record file,
#: compressed on a second core while the rest of the pack is built.
ZIP_FIRST = (EVIDENCE,)


def zip_pack(pack: Path, target: Path, as_of: datetime) -> None:
    """A reproducible zip of the finished pack (``ZIP_FIRST``, then every other file in name
    order; timestamps at as_of), written atomically; entries sit under ``evidence-pack/``."""
    pack_zip.write(pack, target, as_of, prefix=PACK_DIR, first=ZIP_FIRST)


def start_zip(pack: Path, target: Path, as_of: datetime,
              growing: Path | None = None) -> pack_zip.PackZip:
    """Start zipping ``pack``'s ``ZIP_FIRST`` files in a thread: written already, or the first
    read from ``growing`` as it is written (``PackZip.grown``); the caller finishes the zip
    once the pack is complete (the same bytes as ``zip_pack`` then)."""
    z = pack_zip.PackZip(pack, target, as_of, prefix=PACK_DIR, first=ZIP_FIRST)
    z.start(growing)
    return z


@contextmanager
def open_pack(path: Path) -> Iterator[Path]:
    """Yield the pack folder for ``path``: the folder itself, or a zip safely extracted.

    ``PackError`` if it is neither or the zip's directory is damaged; ``PackCorrupt``, naming
    the member, if a member does not read back (a flipped byte fails its CRC-32)."""
    if path.is_dir():
        yield path
        return
    if not zipfile.is_zipfile(path):
        raise PackError(f"{path} is neither a pack folder nor a zip")
    with tempfile.TemporaryDirectory(prefix="clausewatch-pack-") as tmp:
        root = Path(tmp)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise PackError(f"{path}: not a readable zip: {exc}") from exc
        with zf:
            for member in zf.infolist():
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise PackError(f"{path}: unsafe entry {member.filename!r}")
            for member in zf.infolist():
                try:
                    zf.extract(member, root)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                        ValueError) as exc:
                    raise PackCorrupt(path, member.filename, str(exc) or type(exc).__name__) \
                        from exc
        tops = [p for p in root.iterdir()]
        yield tops[0] if len(tops) == 1 and tops[0].is_dir() else root
