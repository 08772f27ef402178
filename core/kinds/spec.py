"""What an evidence kind declares: its facts (one declaration each) and its id rule.

Everything else is derived from it by the collectors package: the published JSON Schema of a
JSON Lines record, the msgspec types of the reader's fast path, and the reader's tables (which
facts are timestamps, which are shared across records). Types only, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

#: A kind or fact name: lower-case snake case (it is a JSON key and a module name).
NAME = re.compile(r"[a-z][a-z0-9_]*")
#: The record kind of the interchange format that is not an evidence kind.
RESERVED = frozenset({"collection_error"})

IdRule = Callable[[str, str, Mapping[str, Any]], str]


class FactType(StrEnum):
    """The value of a fact, as the JSON Lines format carries it."""

    TEXT = "text"  #: a non-empty string
    STRING = "string"  #: any string
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"  #: an integer or a float
    TIMESTAMP = "timestamp"  #: RFC 3339 with an offset in JSON; an aware datetime in memory
    CHOICE = "choice"  #: one of ``choices``
    STRINGS = "strings"  #: a list of strings
    LABELS = "labels"  #: an object of strings, numbers and booleans (tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """One fact of a kind: its name, type, whether required and nullable, bounds and sharing.

    ``shared``: equal values repeat across many records (severities, states, CVE lists); the
    reader keeps one object per distinct value, which keeps a million records' memory flat.
    """

    name: str
    type: FactType
    required: bool = False
    nullable: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    shared: bool = False

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ValueError(f"fact name {self.name!r} is not lower-case snake case")
        if (self.type is FactType.CHOICE) != bool(self.choices):
            raise ValueError(f"fact {self.name!r}: choices go with, and only with, type choice")
        if self.minimum is not None and self.type not in (FactType.INTEGER, FactType.NUMBER):
            raise ValueError(f"fact {self.name!r}: a minimum bounds only integers and numbers")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceKind:
    """One evidence kind, declared once: its name, description, facts and id rule.

    ``id_facts`` is the id rule: a record that brings no id gets
    ``<source>:<kind>:<subject>`` followed by ``:<value>`` of each of these facts (a datetime
    in ISO form, anything else with ``str``, an absent fact as the empty string). Patch records
    are one per asset x update (``update_id``), backups one per run (``completed_at``).
    """

    name: str
    description: str
    facts: tuple[Fact, ...]
    id_facts: tuple[str, ...] = ()
    #: Derived: the names of the timestamp facts, of the shared facts, and the id function.
    timestamp_facts: tuple[str, ...] = field(init=False)
    shared_facts: tuple[str, ...] = field(init=False)
    evidence_id: IdRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name) or self.name in RESERVED:
            raise ValueError(f"kind name {self.name!r} is reserved or not lower-case snake case")
        names = [f.name for f in self.facts]
        if len(set(names)) != len(names):
            raise ValueError(f"kind {self.name!r} declares a fact twice")
        if unknown := [n for n in self.id_facts if n not in names]:
            raise ValueError(f"kind {self.name!r}: id facts {unknown} are not declared")
        stamps = tuple(f.name for f in self.facts if f.type is FactType.TIMESTAMP)
        object.__setattr__(self, "timestamp_facts", stamps)
        object.__setattr__(self, "shared_facts", tuple(f.name for f in self.facts if f.shared))
        object.__setattr__(self, "evidence_id", _id_rule(self.name, self.id_facts))

    def fact(self, name: str) -> Fact:
        """The declaration of one fact; ``KeyError`` if the kind has none of that name."""
        for f in self.facts:
            if f.name == name:
                return f
        raise KeyError(name)


def id_part(value: Any) -> str:
    """One fact as an id rule writes it: a datetime in ISO form, anything else with ``str``."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _id_rule(kind: str, keys: tuple[str, ...]) -> IdRule:
    """The id function of a kind, specialised: a million-record file calls it per record."""
    if not keys:

        def bare(source: str, subject: str, facts: Mapping[str, Any]) -> str:
            return f"{source}:{kind}:{subject}"

        return bare
    if len(keys) == 1:
        (key,) = keys

        def one(source: str, subject: str, facts: Mapping[str, Any]) -> str:
            value = facts.get(key, "")
            if value.__class__ is not str:
                value = id_part(value)
            return f"{source}:{kind}:{subject}:{value}"

        return one

    def many(source: str, subject: str, facts: Mapping[str, Any]) -> str:
        parts = ":".join(id_part(facts.get(k, "")) for k in keys)
        return f"{source}:{kind}:{subject}:{parts}"

    return many
