"""The one pipeline every run goes through: collect -> evaluate -> publish -> record and alert.

``evaluate`` (evidence from a file), ``run`` (evidence from the live sources) and the demo (a
synthetic estate) differ only in how they gather evidence; this module does the rest, in the
same order for all three. With an output folder, everything is written into a staging folder
beside it that replaces it only when the whole run succeeded; the history records the run as
unpublished until then (``pipeline.publication``, ``reports.staging``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clausewatch.checks.engine import evaluate
from clausewatch.core.clock import utc_now
from clausewatch.core.contract import Contract
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.faults import checkpoint
from clausewatch.core.interrupt import Stopped, deferred
from clausewatch.core.redact import Redactor
from clausewatch.core.run import RunInfo
from clausewatch.history.store import Location
from clausewatch.pipeline.nightly import Nightly
from clausewatch.pipeline.publication import (
    archive_slot,
    copy_published_pack,
    locked,
    mark_published,
    reconcile,
    roll_back,
)
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.staging import abort, begin, commit, recover

if TYPE_CHECKING:
    from clausewatch.reports.staging import Staging

log = logging.getLogger("clausewatch")


@dataclass(frozen=True, slots=True, kw_only=True)
class Gathered:
    """What a run judges: the evidence, the collection errors, and facts about how they came."""

    evidence: Sequence[Evidence]
    errors: Sequence[CollectionError]
    inputs: Mapping[str, Any] = field(default_factory=dict)  # added to the run's inputs
    secrets: Sequence[str] = ()  # credentials read while gathering: masked in every output


#: Gathers the evidence; given the staging folder (raw API pages go under it) or None.
Gather = Callable[[Path | None], Gathered]
#: Runs after the outputs are written into the staging folder (the demo's history).
After = Callable[[Path, Evaluation, RunInfo], None]
#: Runs before the reports are written; returns a history the reports should read the breach
#: starts and penalty exposure from (the demo's back-filled one), or None.
Before = Callable[[Path, Evaluation, RunInfo], Path | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One run to make: the contract as read, what gathers its evidence, where results go."""

    command: str
    contract: Contract
    contract_bytes: bytes
    as_of: datetime
    started_at: datetime
    gather: Gather
    inputs: Mapping[str, Any] = field(default_factory=dict)
    out: Path | None = None
    options: PackOptions = field(default_factory=PackOptions)
    nightly: Nightly = field(default_factory=Nightly)
    after: After | None = None
    before: Before | None = None


def execute(run: Run) -> tuple[Evaluation, RunInfo]:
    """Make the run: gather, evaluate, write the outputs (if any), record history, alert.

    The output folder's lock and the history store's are held from before collection to
    after publication, and what a killed run left is put right first (``publication``)."""
    if run.out is None:
        with locked(None, run.nightly.history, run.contract.id):
            reconcile(run.nightly.history, None, run.contract.id)
            ev, info, _ = _judge(run, None)
            checkpoint("gathered")
            run.nightly.publish(None, ev, info)
        return ev, info
    with locked(run.out, run.nightly.history, run.contract.id):
        for done in recover(run.out, copy_published_pack):
            log.warning("%s", done)
        reconcile(run.nightly.history, run.out, run.contract.id)
        return _publish(run, run.out)


def _publish(run: Run, out: Path) -> tuple[Evaluation, RunInfo]:
    # imported here: a run without an output folder loads no report, pack or standing code
    from clausewatch.history.standing import read_standing
    from clausewatch.reports.publish import publish_run

    st = begin(out)
    recorded: str | None = None
    published = False
    try:
        (st.stage / "contract.yaml").write_bytes(run.contract_bytes)
        ev, info, gathered = _judge(run, st.stage)
        checkpoint("gathered")
        options = dataclasses.replace(
            run.options, secrets=(*run.options.secrets, *gathered.secrets)
        )
        history = run.before(st.stage, ev, info) if run.before is not None else None
        publish_run(st.stage, ev, info, [*gathered.evidence, *gathered.errors],
                    run.contract_bytes, options, archive=False,
                    standing=read_standing(history or run.nightly.history, ev))
        if run.after is not None:
            run.after(st.stage, ev, info)
        checkpoint("stage-written")
        # history + alerts.json; delivery never fails it; the run is recorded unpublished
        if run.nightly.publish(st.stage, ev, info, publishing=st.target) is not None:
            recorded = info.run_id
        checkpoint("history-recorded")
        commit(st, run_id=info.run_id, archive=archive_slot(run.options.history, st.stage),
               published=lambda: mark_published(run.nightly.history, info.run_id),
               archiver=copy_published_pack)
        published = True
    except Stopped as exc:
        if not (published or exc.published):
            _give_up(st, run.nightly.history, recorded)
        raise
    except BaseException:
        _give_up(st, run.nightly.history, recorded)
        raise
    return ev, info


def _give_up(st: Staging, history: Location | None, recorded: str | None) -> None:
    """The run failed before its outputs were in place: drop the stage, undo its history."""
    with deferred():
        abort(st)
        if recorded is not None:
            roll_back(history, recorded)


def _masked(gathered: Gathered, secrets: Sequence[str]) -> Gathered:
    """The evidence with every secret known to the run masked, before it is judged or written:
    an API error echoing a credential (a bearer token, a client secret) stays data."""
    redactor = Redactor([*secrets, *gathered.secrets])
    if not redactor.values:
        return gathered
    return dataclasses.replace(gathered, evidence=redactor.records(gathered.evidence),
                               errors=redactor.records(gathered.errors))


def _judge(run: Run, stage: Path | None) -> tuple[Evaluation, RunInfo, Gathered]:
    gathered = _masked(run.gather(stage), (*run.options.secrets,))
    ev = evaluate(run.contract, gathered.evidence, gathered.errors, run.as_of)
    info = RunInfo(
        as_of=run.as_of,
        started_at=run.started_at,
        finished_at=utc_now(),
        command=run.command,
        inputs={**run.inputs, **gathered.inputs},
    )
    return ev, info, gathered
