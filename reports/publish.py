"""Write everything a run produces into a staging folder: the files, the reports, the pack.

``pipeline.run`` calls ``publish_run`` in a staging folder (``reports.staging``), so the whole
output folder (pack included) appears at once or not at all.

Output folder::

    contract.yaml? evidence.jsonl results.json          (the run's record: always written)
    one file per selected output format                  (``reports.formats.FORMATS``)
    evidence-pack/  evidence-pack.zip                    (see evidence_pack.py)

evidence.jsonl is written first; its zip member is deflated in a thread as the file grows
(``reports.pack_zip``), then while results.json, the reports and the pack are written. The record
files and the reports are scanned for the pack's secrets as written (``LeakScan``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.gc_policy import paused
from clausewatch.core.redact import Redactor
from clausewatch.core.run import RunInfo
from clausewatch.history.standing import Standing
from clausewatch.reports import results_json
from clausewatch.reports.evidence_pack import (
    ATTACHMENTS,
    EVIDENCE,
    PACK_DIR,
    PACK_ZIP,
    REPORTS,
    RESULTS,
    PackInfo,
    archive_pack,
    build_pack,
    leak_error,
    pack_redactor,
    sha256_bytes,
    sha256_file,
    start_zip,
)
from clausewatch.reports.formats import FORMATS, RunView, csv_results
from clausewatch.reports.i18n import LANGUAGES
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.signing import load_private_key
from clausewatch.reports.streams import evidence_chunks, link_or_copy, write_stream

SIGNING_KEY_ENV = "CLAUSEWATCH_SIGNING_KEY"
SIGNING_PASSWORD_ENV = "CLAUSEWATCH_SIGNING_KEY_PASSWORD"


def pack_options(
    *,
    out: Path,
    lang: str | None = None,
    signing_key: Path | None = None,
    previous: Path | None = None,
    history: Path | None = None,
    secrets: Iterable[str] = (),
    formats: Iterable[str] | None = None,
    format_options: Mapping[str, str] | None = None,
    env: Mapping[str, str] = os.environ,
) -> PackOptions:
    """Pack options from the command line and environment.

    The signing key comes from ``--signing-key`` or ``$CLAUSEWATCH_SIGNING_KEY`` (its password,
    if any, from ``$CLAUSEWATCH_SIGNING_KEY_PASSWORD``). Without ``--previous-pack`` or
    ``--pack-history``, the pack chains to the one already in ``out`` (the previous run's), if any.
    ``formats``: the output formats to write (``--format``; None: every registered one);
    ``format_options``: what formats read from their view (``csv_dialect``).
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"--lang must be one of {', '.join(LANGUAGES)}")
    selected = None if formats is None else tuple(f.name for f in FORMATS.select(formats))
    key_path = signing_key or (Path(env[SIGNING_KEY_ENV]) if env.get(SIGNING_KEY_ENV) else None)
    password = env.get(SIGNING_PASSWORD_ENV)
    key = load_private_key(key_path, password.encode() if password else None) if key_path else None
    # read when the pack is built, under the run's lock, once a killed run is put right
    implicit = previous is None and history is None
    return PackOptions(
        lang=lang,
        signing_key=key,
        previous=out / PACK_DIR if implicit else previous,
        previous_optional=implicit,
        history=history,
        secrets=tuple([*secrets, *([password] if password else [])]),
        formats=selected,
        format_options=dict(format_options or {}),
    )


def render_reports(view: RunView, names: Iterable[str] | None = None) -> dict[str, bytes]:
    """The selected reports of the run (every registered format when ``names`` is None), by
    file name."""
    return {f.file_name: f.render(view) for f in FORMATS.select(names)}


def publish_run(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    contract_bytes: bytes,
    options: PackOptions | None = None,
    *,
    archive: bool = True,
    standing: Standing | None = None,
) -> PackInfo:
    """Write the run's record, its reports (``options.formats``, default every registered
    format), its evidence pack and the pack's zip into ``stage``; with ``archive``, copy the
    pack into ``options.history`` too (the pipeline does that only once the run is published).

    Raw API pages a collector recorded under ``stage/raw`` go into the pack (redacted), the
    files it attached under ``stage/attachments`` (attested reports) verbatim. ``standing``:
    breach starts and penalty exposure from the history, for the reports.

    The cyclic collector is paused meanwhile: publishing makes hundreds of thousands of
    short-lived dicts, each of which would count towards collections that rescan every
    object of the evaluation, for nothing to collect (reference counting frees them)."""
    with paused():
        return _publish(stage, ev, info, records, contract_bytes, options, archive=archive,
                        standing=standing)


def _publish(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    contract_bytes: bytes,
    options: PackOptions | None,
    *,
    archive: bool,
    standing: Standing | None,
) -> PackInfo:
    options = options or PackOptions()
    # Run inputs (sources, endpoints, identities) reach results.json and every report: mask
    # secret keys and known secret values there first.
    info = dataclasses.replace(info, inputs=Redactor(options.secrets).data(info.inputs))
    if options.raw_dir is None and (stage / "raw").is_dir():
        options = dataclasses.replace(options, raw_dir=stage / "raw")
    if options.attachments_dir is None and (stage / ATTACHMENTS).is_dir():
        options = dataclasses.replace(options, attachments_dir=stage / ATTACHMENTS)
    # The run's record is written as streams, hashed on the way (``reports.streams``; the
    # evidence by the zip's thread as it reads the file), never held whole in memory; the
    # pack's copies of the output folder's files are hard links.
    pack_dir = stage / PACK_DIR
    redactor = pack_redactor(options)
    scan = redactor.scan()
    # evidence.jsonl's zip member is deflated by a thread as the file is written: on the
    # second core while this one encodes the records, then the rest
    zipping = start_zip(pack_dir, stage / PACK_ZIP, ev.as_of, growing=stage / "evidence.jsonl")
    try:
        write_stream(evidence_chunks(records), stage / "evidence.jsonl", scan=scan,
                     grown=zipping.grown, hashed=False)
        _refuse_leaks(scan.found(), EVIDENCE)
        link_or_copy(stage / "evidence.jsonl", pack_dir / EVIDENCE)
        pack = _write_rest(stage, ev, info, records, contract_bytes, options,
                           lambda: zipping.followed_sha256()
                           or sha256_file(stage / "evidence.jsonl"),
                           standing, redactor)
    except BaseException:
        zipping.abort()
        raise
    zipping.finish()
    if archive and options.history is not None:
        archive_pack(pack.path, options.history, info.run_id, ev.as_of)
    return pack


def _write_rest(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    contract_bytes: bytes,
    options: PackOptions,
    evidence_digest: Callable[[], str],
    standing: Standing | None,
    redactor: Redactor,
) -> PackInfo:
    """results.json, the reports and the rest of the pack, once evidence.jsonl is written
    (its SHA-256 is taken by the zip's thread: ``evidence_digest`` waits for it, when the
    reports need it). The files written here are scanned for the pack's secrets as written
    (``redactor``)."""
    pack_dir = stage / PACK_DIR
    scan = redactor.scan()
    # the CSV's rows are built from the plain results as results.json is written
    selected = {f.name for f in FORMATS.select(options.formats)}
    csv_rows = csv_results.Rows(ev) if "csv" in selected else None
    results = write_stream(results_json.chunks(ev, info, each=csv_rows), stage / "results.json",
                           scan=scan)
    _refuse_leaks(scan.found(), RESULTS)
    evidence_sha256 = evidence_digest()
    view = RunView.of(
        ev,
        info,
        records=records,
        lang=options.lang,
        evidence_sha256=evidence_sha256,
        results_sha256=results.sha256,
        standing=standing,
        options=options.format_options,
        prepared={"csv": csv_rows} if csv_rows is not None else None,
    )
    reports = render_reports(view, options.formats)
    streamed = {EVIDENCE: evidence_sha256, RESULTS: results.sha256}
    for name, data in reports.items():
        _refuse_leaks(redactor.leaks(data), f"{REPORTS}/{name}")
        (stage / name).write_bytes(data)
        streamed[f"{REPORTS}/{name}"] = sha256_bytes(data)
    for rel, name in ((RESULTS, "results.json"), *((f"{REPORTS}/{n}", n) for n in reports)):
        link_or_copy(stage / name, pack_dir / rel)
    return build_pack(
        pack_dir,
        ev=ev,
        info=info,
        records=records,
        contract_bytes=contract_bytes,
        streamed=streamed,
        reports=reports,
        options=options,
        scanned=streamed,
    )


def _refuse_leaks(found: list[str], rel: str) -> None:
    if found:
        raise leak_error(found, rel)
