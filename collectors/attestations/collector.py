"""Attestations become ``restore_test`` evidence, each resting on its re-hashed signed report.

Every nightly run reads the store (``store.py``) and, per attestation, the report copied into
it: the report is hashed again and compared with the SHA-256 recorded by ``clausewatch attest``.
A sound report is kept verbatim for the evidence pack (``RawRecorder.attach``: the record's
``raw_ref`` names it, with its digest). A report missing from the store, unreadable, or whose
hash differs gives a record with ``report_problem`` set: the ``restore_test`` check never
counts it, and a system it might have cured is ``no_evidence``, never compliant.

A line of the store that cannot be read but names its system gives such a record for that
system, dated at the run (it might be the newest test); a line that names nothing, or a store
that cannot be read at all, could be about any system: a ``CollectionError`` with an empty
origin, which the engine applies to every restore-test subject (and which a commitment with
``evidence: automated`` ignores, like the attestations themselves).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from clausewatch.collectors.attestations import store as att_store
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import CollectionError, Evidence, Kind

SOURCE = "attestations"


@dataclass(frozen=True, slots=True)
class AttestationCollector:
    """One attestation store (``name`` names it in origins: ``attestations/<name>``).

    ``systems``: the systems the sources file says must be attested, each an ``asset`` (so a
    system nobody attested is breached, not absent).
    """

    name: str
    store: Path
    raw: RawRecorder
    observed_at: datetime
    systems: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    source: ClassVar[str] = SOURCE

    @property
    def origin(self) -> str:
        return f"{SOURCE}/{self.name}"

    @property
    def kinds(self) -> tuple[str, ...]:
        return (Kind.RESTORE_TEST.value, *((Kind.ASSET.value,) if self.systems else ()))

    def collect(self) -> Iterator[Evidence | CollectionError]:
        yield from self._systems()
        if not self.store.is_dir():
            yield self._error(f"the attestation store {self.store} does not exist (create it "
                              "with clausewatch attest --store)", "store")
            return
        try:
            lines = list(att_store.read(self.store))
        except OSError as exc:
            yield self._error(f"cannot read {self.store / att_store.FILE}: "
                              f"{exc.strerror or exc}", "read")
            return
        for n, item, system in lines:
            where = f"{att_store.FILE} line {n}"
            if isinstance(item, att_store.Attestation):
                if item.completed_at <= self.observed_at:  # not yet happened at as_of: skip
                    yield self._record(item)
            elif system is not None:
                yield self._unreadable(system, f"{where} is unreadable: {item}", n)
            else:
                yield self._error(f"{self.store / att_store.FILE} line {n} is unreadable and "
                                  f"names no system: {item}", "read")

    def _systems(self) -> Iterator[Evidence]:
        for s in self.systems:
            facts = {"asset_kind": s.get("asset_kind", "system"), "name": s.get("name"),
                     "tags": dict(s.get("tags", {}))}
            yield Evidence(
                id=f"{SOURCE}:asset:{s['subject']}", kind=Kind.ASSET, source=SOURCE,
                subject=s["subject"], observed_at=self.observed_at, facts=facts,
                origin=self.origin, raw_ref=None,
            )

    def _record(self, a: att_store.Attestation) -> Evidence:
        problem, raw_ref = self._report(a)
        note = "; ".join(x for x in (a.exercise.replace("_", " "), a.reference, a.note) if x)
        facts: dict[str, Any] = {
            "outcome": att_store.OUTCOMES[a.outcome],
            "completed_at": a.completed_at,
            "duration_minutes": a.duration_minutes,
            "method": "attested",
            "attested": True,
            "attested_by": a.attested_by,
            "note": note,
            "report_sha256": a.report_sha256,
            "report_path": a.report_path,
            "report_problem": problem,
            "attestation_id": a.id,
            "exercise": a.exercise,
        }
        return Evidence(
            id=f"{SOURCE}:restore_test:{a.system}:{a.id}", kind=Kind.RESTORE_TEST,
            source=SOURCE, subject=a.system, observed_at=self.observed_at, facts=facts,
            origin=self.origin, raw_ref=raw_ref,
        )

    def _report(self, a: att_store.Attestation) -> tuple[str | None, str | None]:
        """(why the report cannot be trusted or None, the raw_ref of its kept copy)."""
        path = self.store / a.report_path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return f"report {a.report_path} is missing from the store {self.store}", None
        except OSError as exc:
            return f"report {a.report_path} cannot be read: {exc.strerror or exc}", None
        digest = hashlib.sha256(data).hexdigest()
        if digest != a.report_sha256:
            return (f"report {a.report_path} does not match its recorded SHA-256 (recorded "
                    f"{a.report_sha256[:12]}…, now {digest[:12]}…)"), None
        return None, self.raw.attach(self.origin, a.report_path.rsplit("/", 1)[-1], data)

    def _unreadable(self, system: str, problem: str, line: int) -> Evidence:
        facts: dict[str, Any] = {
            "outcome": "failed", "completed_at": self.observed_at, "method": "attested",
            "attested": True, "attested_by": None, "report_sha256": None, "report_path": None,
            "report_problem": problem,
        }
        return Evidence(
            id=f"{SOURCE}:restore_test:{system}:line-{line}", kind=Kind.RESTORE_TEST,
            source=SOURCE, subject=system, observed_at=self.observed_at, facts=facts,
            origin=self.origin, raw_ref=None,
        )

    def _error(self, message: str, operation: str) -> CollectionError:
        return CollectionError(
            source=SOURCE, origin="", kinds=(Kind.RESTORE_TEST.value,), message=message,
            operation=operation, occurred_at=self.observed_at,
            details={"evidence": "attested", "store": str(self.store)},
        )
