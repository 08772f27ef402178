"""The contract and its commitments, as loaded from YAML. Types only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Party(StrEnum):
    """Who answers for a commitment."""

    PROVIDER = "provider"
    CUSTOMER = "customer"
    SHARED = "shared"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Which subjects a commitment covers.

    ``sources`` filters evidence by its source (empty: every source); ``asset_kinds`` and
    ``tags`` / ``exclude_tags`` and ``facts`` / ``exclude_facts`` filter inventory (see
    ``facts_in_scope``); ``population`` says which identities count (see the ``mfa_coverage``
    check).
    """

    sources: tuple[str, ...] = ()
    asset_kinds: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    exclude_tags: Mapping[str, str] = field(default_factory=dict)
    population: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    exclude_facts: Mapping[str, Any] = field(default_factory=dict)

    def tags_in_scope(self, tags: Mapping[str, Any]) -> bool:
        if any(str(tags.get(k)) != str(v) for k, v in self.tags.items()):
            return False
        return not any(k in tags and str(tags[k]) == str(v) for k, v in self.exclude_tags.items())

    def facts_in_scope(self, facts: Mapping[str, Any]) -> bool:
        """Whether an asset's facts put it in scope (see ``fact_matches``).

        Every fact of ``facts`` must match (an asset that does not report one is out); any fact
        of ``exclude_facts`` that matches takes it out (one it does not report leaves it in).
        """
        if not all(fact_matches(facts.get(k), wanted) for k, wanted in self.facts.items()):
            return False
        return not any(fact_matches(facts.get(k), v) for k, v in self.exclude_facts.items())


def fact_matches(actual: Any, wanted: Any) -> bool:
    """The scope's matching rule for one fact.

    ``wanted`` is a value or a list of values (any of them will do). Strings compare
    case-insensitively and whole: ``windows`` matches ``Windows``, not ``Windows Server``. A
    number or boolean matches the same value or its text (``10`` matches ``"10"``, ``true``
    matches ``"True"``), never a value of the other kind (``true`` does not match ``1``). A
    missing fact (None) matches nothing; a list as the actual fact matches when any item does.
    """
    options = wanted if isinstance(wanted, list | tuple) else (wanted,)
    actuals = actual if isinstance(actual, list | tuple) else (actual,)
    return any(_same(a, w) for a in actuals for w in options)


def _same(actual: Any, wanted: Any) -> bool:
    if actual is None or wanted is None:
        return False
    if isinstance(actual, str) or isinstance(wanted, str):
        return _text(actual).casefold() == _text(wanted).casefold()
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return actual is wanted
    return bool(actual == wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Penalty:
    """Service credits a commitment's breach costs the provider (optional in the contract).

    ``per_breach`` is due for each breach of the commitment that begins, ``per_day_late`` for
    each night the commitment is seen breached; ``cap_per_period`` bounds the sum per ``period``
    (a calendar month or quarter in the contract's time zone). ``None`` means no cap.
    """

    per_breach: float = 0.0
    per_day_late: float = 0.0
    cap_per_period: float | None = None
    currency: str = "EUR"
    period: str = "month"  # "month" or "quarter"


#: What evidence a commitment accepts (its ``evidence:`` key): records a tool produced, records a
#: person attested (``clausewatch attest``), or both (the default).
EVIDENCE_MODES = ("any", "automated", "attested")


@dataclass(frozen=True, slots=True, kw_only=True)
class Commitment:
    """One security commitment of the contract, checked by one check.

    ``evidence``: ``any`` (default), ``automated`` (attested records are ignored) or
    ``attested`` (only attested records count), see ``EVIDENCE_MODES``.
    """

    id: str
    clause: str
    title: str
    check: str
    responsible: Party
    scope: Scope
    params: Mapping[str, Any]
    target: float  # share of in-scope subjects that must comply, 0..1
    warning_days: float = 0.0
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    description: str = ""
    source_file: str = ""
    source_line: int = 0
    penalty: Penalty | None = None
    evidence: str = "any"


#: The dates a contract may name (its dates, waivers' grants and expiries). The loader refuses
#: any other; date arithmetic on them (a waiver ends the day after it expires) cannot overflow.
DATE_MIN = date(1970, 1, 1)
DATE_MAX = date(2999, 12, 31)


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver:
    """An accepted risk: named subjects of a commitment are exempt until ``expires`` (inclusive)."""

    commitment: str
    subjects: tuple[str, ...]
    reason: str
    approver: str
    expires: date
    granted: date | None = None
    reference: str = ""
    source_line: int = 0

    def end(self, tz: ZoneInfo) -> datetime:
        """The instant the waiver stops applying: midnight after its expiry day, contract time.

        An expiry beyond ``DATE_MAX`` (which the loader refuses) counts as ``DATE_MAX``, so this
        never overflows.
        """
        last = min(self.expires, DATE_MAX)
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)

    def in_force(self, as_of: datetime, tz: ZoneInfo) -> bool:
        if self.granted is not None and as_of < datetime.combine(self.granted, time(0), tzinfo=tz):
            return False
        return as_of < self.end(tz)


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """The contract block and everything declared under it."""

    id: str
    title: str
    provider: str
    customer: str
    effective_from: date
    effective_to: date | None
    timezone: ZoneInfo
    commitments: tuple[Commitment, ...]
    waivers: tuple[Waiver, ...] = ()
    language: str = "en"
    source_file: str = ""
    digest: str = ""  # sha256 of the file as read
    period: str = "month"  # the attainment period: "month" or "quarter", contract time zone

    def commitment(self, commitment_id: str) -> Commitment:
        for c in self.commitments:
            if c.id == commitment_id:
                return c
        raise KeyError(commitment_id)
