"""The fast path of the JSON Lines reader: msgspec types, derived from the kinds' declarations.

The JSON Schema (``collectors/schema/evidence.py``) stays the interchange contract. These types
are a stricter mirror of it, derived from the same declarations (``clausewatch.core.kinds``) and
decoded and checked in one C pass by msgspec: every line they accept is valid against the
schema (``tests/collectors/test_fast_lines.py`` checks that on the fixtures and on generated
records). A line they refuse is not an error by itself: the reader then takes the schema path
(orjson + jsonschema-rs), which accepts what the schema allows (extra facts, ``1.0`` as an
integer, collection errors) and words the error of an invalid line.

Timestamps are decoded as text and parsed once per distinct text by the reader (files repeat
the same instants; one shared object each keeps memory flat); :data:`CANONICAL_INSTANT` is the
strict RFC 3339 form the fast path takes.

A record read by the fast path keeps its decoded facts: the reader puts the parsed timestamps
and shared strings into the :class:`Facts` struct in place and hands it to ``Evidence`` as its
``facts``. A :class:`Facts` is a read-only ``Mapping`` of the facts the line carries (a fact the
line leaves out, ``UNSET`` in the struct, is absent from it), equal to the dict of the same
facts: a million records' facts take a struct each (about 90 bytes for a patch) instead of a
dict each (about 270), and the checks read their fields as attributes (``checks.fact_rows``).
"""

from __future__ import annotations

import re
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from functools import lru_cache
from typing import Annotated, Any, Literal, cast

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.structs import astuple

from clausewatch.core.kinds import KINDS, EvidenceKind, Fact, FactType, KindRegistry
from clausewatch.core.limits import MAX_INTEGER

#: RFC 3339 with ``T``, seconds, at most microseconds and an explicit offset: a subset of the
#: schema's ``date-time`` (anything else takes the schema path).
CANONICAL_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)

Text = Annotated[str, Meta(min_length=1)]
#: Integers within the documented bound (msgspec itself would take up to 2**64 - 1).
Integer = Annotated[int, Meta(ge=-MAX_INTEGER, le=MAX_INTEGER)]
Scalar = str | Integer | float | bool


class Facts(Struct, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Facts of one kind; every optional fact is ``UNSET`` when the line does not carry it.

    Read as a ``Mapping`` (registered as one) of the facts that are not ``UNSET``, in declared
    order: ``facts["state"]``, ``facts.get("installed_at")``, ``dict(facts)``, and equal to any
    mapping of the same items. Not tracked by the cyclic collector (``gc=False``): its values
    are strings, numbers, datetimes and lists or dicts of those, which cannot form a cycle.
    Read-only by convention, as the facts dicts of live records are.
    """

    def __getitem__(self, key: str) -> Any:
        if key in self.__struct_fields__:
            value = getattr(self, key)
            if value is not UNSET:
                return value
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.__struct_fields__:
            value = getattr(self, key)
            if value is not UNSET:
                return value
        return default

    def __contains__(self, key: object) -> bool:
        return key in self.__struct_fields__ and getattr(self, key) is not UNSET

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in zip(self.__struct_fields__, astuple(self), strict=True)
                if v is not UNSET)

    def __len__(self) -> int:
        return sum(v is not UNSET for v in astuple(self))

    def keys(self) -> KeysView[str]:
        return KeysView(cast(Mapping[str, Any], self))

    def items(self) -> ItemsView[str, Any]:
        return ItemsView(cast(Mapping[str, Any], self))

    def values(self) -> ValuesView[Any]:
        return ValuesView(cast(Mapping[str, Any], self))

    def as_dict(self) -> dict[str, Any]:
        """The facts as a new dict (the same value objects)."""
        return {k: v for k, v in zip(self.__struct_fields__, astuple(self), strict=True)
                if v is not UNSET}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return astuple(self) == astuple(other)
        if isinstance(other, Mapping):
            return self.as_dict() == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # a mapping, like dict

    def __repr__(self) -> str:
        return repr(self.as_dict())


Mapping.register(Facts)


class FastLine(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", gc=False):
    """One evidence line of the strict form; each kind's subclass types its ``facts``."""

    source: Text
    subject: Text
    observed_at: str
    facts: Facts
    id: Text | UnsetType = UNSET
    #: ``UNSET`` when absent, so that re-encoding a line gives back exactly its names
    #: (``strict_json.keys_intact``); the reader reads them as ``""`` and ``None``.
    origin: str | UnsetType = UNSET
    raw_ref: str | None | UnsetType = UNSET


def _bounded(base: type, minimum: int | None) -> Any:
    if base is int:
        return Integer if minimum is None else Annotated[int, Meta(ge=minimum, le=MAX_INTEGER)]
    return base if minimum is None else Annotated[base, Meta(ge=minimum)]


def fact_type(fact: Fact) -> Any:
    """The msgspec type of one fact's value (no ``UNSET``): a subset of its schema."""
    kind = fact.type
    value: Any
    if kind is FactType.TEXT:
        value = Text
    elif kind in (FactType.STRING, FactType.TIMESTAMP):  # timestamps: parsed by the reader
        value = str
    elif kind is FactType.BOOLEAN:
        value = bool
    elif kind is FactType.INTEGER:
        value = _bounded(int, fact.minimum)
    elif kind is FactType.NUMBER:  # an int stays an int, as on the schema path
        value = _bounded(int, fact.minimum) | _bounded(float, fact.minimum)
    elif kind is FactType.CHOICE:
        value = Literal[fact.choices]
    elif kind is FactType.STRINGS:
        value = list[str]
    else:  # FactType.LABELS
        value = dict[str, Scalar]
    return value | None if fact.nullable else value


def facts_type(kind: EvidenceKind) -> type[Facts]:
    """The Struct of a kind's facts: required facts first, then optional ones, as declared."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (f.name, fact_type(f)) for f in kind.facts if f.required
    ]
    fields += [(f.name, fact_type(f) | UnsetType, UNSET) for f in kind.facts if not f.required]
    made = msgspec.defstruct(_camel(kind.name) + "Facts", fields, bases=(Facts,),
                             module=__name__, kw_only=True, forbid_unknown_fields=True,
                             gc=False)
    return cast(type[Facts], made)  # defstruct is typed as returning a plain Struct type


def line_type(kind: EvidenceKind) -> type[FastLine]:
    """The Struct of one line of ``kind``, tagged by its ``kind`` field."""
    made = msgspec.defstruct(_camel(kind.name) + "Line", [("facts", facts_type(kind))],
                             bases=(FastLine,), module=__name__, tag=kind.name, gc=False)
    return cast(type[FastLine], made)


@lru_cache(maxsize=8)
def line_types(kinds: KindRegistry = KINDS) -> dict[type[FastLine], EvidenceKind]:
    """The line type of each registered kind (built once per registry)."""
    return {line_type(kind): kind for kind in kinds}


def decoder(kinds: KindRegistry = KINDS) -> msgspec.json.Decoder[FastLine]:
    """A decoder of one evidence line (not a collection error) of the strict form."""
    types = tuple(line_types(kinds))
    union: Any = types[0]
    for other in types[1:]:
        union = union | other
    return msgspec.json.Decoder(union)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
