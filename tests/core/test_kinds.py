"""The evidence kinds: declared once each, registered by ``Kind``, their id and timestamp rules."""

from __future__ import annotations

import pkgutil
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.core import evidence as evidence_module
from clausewatch.core import kinds as kinds_package
from clausewatch.core.evidence import Evidence, default_evidence_id
from clausewatch.core.kinds import KINDS, EvidenceKind, Fact, FactType, Kind, KindRegistry

#: The modules of the kinds package that are machinery, not kinds.
MACHINERY = {"spec", "registry"}
WHEN = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)


def unregistered(package_dir: Path, registered: set[str]) -> list[str]:
    """The kind modules in ``package_dir`` that no ``Kind`` member registers."""
    found = {m.name for m in pkgutil.iter_modules([str(package_dir)])} - MACHINERY
    return sorted(found - registered)


def test_every_kind_module_is_registered():
    """In the style of pip-audit's test_to_format_is_exhaustive: a module alone is not enough."""
    (package_dir,) = kinds_package.__path__
    missing = unregistered(Path(package_dir), {k.value for k in Kind})
    assert not missing, f"add a member to Kind in core/kinds/__init__.py for {missing}"


def test_a_stray_kind_module_would_fail_the_exhaustiveness_check(tmp_path):
    for name in ("patch", "spec", "registry", "ticket"):
        (tmp_path / f"{name}.py").write_text("")
    assert unregistered(tmp_path, {k.value for k in Kind}) == ["ticket"]


def test_kind_lists_exactly_the_registered_kinds_each_from_its_module():
    assert [k.value for k in Kind] == list(KINDS.names())
    assert len(KINDS) == len(Kind)
    assert {"identity", "asset", "patch", "backup", "restore_test"} <= set(KINDS.names())
    for kind in Kind:
        module = __import__(f"clausewatch.core.kinds.{kind.value}", fromlist=["KIND"])
        assert KINDS[kind] is module.KIND and module.KIND.name == kind.value


def test_declarations_give_the_timestamp_and_shared_facts():
    assert KINDS["patch"].timestamp_facts == ("released_at", "first_seen_at", "installed_at")
    assert KINDS["backup"].timestamp_facts == ("completed_at", "started_at")
    assert KINDS["identity"].shared_facts == ("account_type",)
    assert KINDS["restore_test"].fact("duration_minutes").minimum == 0
    with pytest.raises(KeyError):
        KINDS["asset"].fact("nope")


def old_id_rule(kind: str, source: str, subject: str, facts: dict[str, Any]) -> str:
    """default_evidence_id as it was written per kind before the declarations."""
    base = f"{source}:{kind}:{subject}"
    if kind == "patch":
        return f"{base}:{facts.get('update_id', '')}"
    if kind in ("backup", "restore_test"):
        completed = facts.get("completed_at")
        stamp = completed.isoformat() if isinstance(completed, datetime) else str(completed)
        return f"{base}:{stamp}"
    return base


@pytest.mark.parametrize("kind,facts,expected", [
    ("patch", {"update_id": "KB1"}, "s:patch:x:KB1"),
    ("patch", {}, "s:patch:x:"),
    ("backup", {"completed_at": WHEN}, "s:backup:x:2026-11-01T02:30:00+00:00"),
    ("restore_test", {"completed_at": WHEN.astimezone(timezone(timedelta(hours=1)))},
     "s:restore_test:x:2026-11-01T03:30:00+01:00"),
    ("backup", {"completed_at": "2026-11-01"}, "s:backup:x:2026-11-01"),
    ("identity", {"account": "a"}, "s:identity:x"),
    ("asset", {"asset_kind": "server"}, "s:asset:x"),
    ("unregistered", {"update_id": "KB1"}, "s:unregistered:x"),
])
def test_the_id_rule_of_each_kind_is_the_one_it_had(kind, facts, expected):
    assert default_evidence_id(kind, "s", "x", facts) == expected
    assert old_id_rule(kind, "s", "x", facts) == expected


def test_a_kind_with_several_id_facts_joins_them():
    kind = EvidenceKind(name="ticket", description="t", id_facts=("queue", "number"),
                        facts=(Fact(name="queue", type=FactType.TEXT),
                               Fact(name="number", type=FactType.INTEGER)))
    assert kind.evidence_id("s", "x", {"queue": "q", "number": 7}) == "s:ticket:x:q:7"
    assert kind.evidence_id("s", "x", {"number": 7}) == "s:ticket:x::7"


@pytest.mark.parametrize("make,message", [
    (lambda: Fact(name="Bad", type=FactType.TEXT), "snake case"),
    (lambda: Fact(name="a", type=FactType.CHOICE), "choices"),
    (lambda: Fact(name="a", type=FactType.TEXT, choices=("x",)), "choices"),
    (lambda: Fact(name="a", type=FactType.STRING, minimum=0), "minimum"),
    (lambda: EvidenceKind(name="collection_error", description="", facts=()), "reserved"),
    (lambda: EvidenceKind(name="k", description="", facts=(
        Fact(name="a", type=FactType.TEXT), Fact(name="a", type=FactType.TEXT))), "twice"),
    (lambda: EvidenceKind(name="k", description="", facts=(), id_facts=("a",)), "not declared"),
    (lambda: KindRegistry([KINDS["patch"], KINDS["patch"]]), "registered twice"),
])
def test_malformed_declarations_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def evidence(kind: str, facts: dict[str, Any]) -> Evidence:
    return Evidence(id="i", kind=kind, source="s", subject="x", observed_at=WHEN, facts=facts)


def test_building_evidence_applies_the_timestamp_rule():
    plus2 = timezone(timedelta(hours=2))
    facts = {"update_id": "KB1", "released_at": WHEN.astimezone(plus2),
             "installed_at": "2026-11-01T04:30:00+02:00", "scanned_at": WHEN.astimezone(plus2)}
    ev = evidence("patch", facts)
    assert ev.facts["released_at"] == WHEN  # declared: stays a datetime
    assert ev.facts["installed_at"] == WHEN and isinstance(ev.facts["installed_at"], datetime)
    assert ev.facts["scanned_at"] == "2026-11-01T02:30:00Z"  # undeclared: RFC 3339 text, UTC
    assert facts["scanned_at"] == WHEN  # the collector's own dict is not changed
    assert evidence("ticket", {"at": WHEN}).facts == {"at": "2026-11-01T02:30:00Z"}


def test_facts_without_anything_to_convert_are_kept_as_given():
    facts = {"update_id": "KB1", "released_at": WHEN, "title": "2026-11-01T00:00:00Z"}
    assert evidence("patch", facts).facts is facts


@pytest.mark.parametrize("facts,field", [
    ({"released_at": datetime(2026, 11, 1)}, "facts.released_at"),  # noqa: DTZ001
    ({"scanned_at": datetime(2026, 11, 1)}, "facts.scanned_at"),  # noqa: DTZ001
    ({"released_at": "2026-11-01T00:00:00"}, "facts.released_at"),
    ({"released_at": "yesterday"}, "facts.released_at"),
])
def test_naive_or_unreadable_timestamps_are_refused_when_built(facts, field):
    with pytest.raises(ValueError, match=field):
        evidence("patch", facts)


_STAMPED = ["released_at", "installed_at", "first_seen_at", "scanned_at", "title", "n"]
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4),
    st.sampled_from(["2026-11-01T00:00:00Z", "2026-11-01T04:30:00+02:00", "2026-11-01"]),
    st.sampled_from([WHEN, WHEN.astimezone(timezone(timedelta(hours=2))),
                     datetime(2026, 11, 1)]),  # noqa: DTZ001
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                          max_size=2))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["patch", "asset", "ticket"]),
       st.dictionaries(st.sampled_from(_STAMPED), _VALUES, max_size=6))
def test_the_shortcut_over_facts_left_alone_agrees_with_the_walk(kind, facts):
    """``_left_alone`` (read in C) only ever says True where the walk keeps ``facts`` as they
    are; whatever it says, building gives what the walk alone gives (or raises as it does)."""
    def walked() -> Any:
        with patch.object(evidence_module, "_left_alone", lambda stamps, facts: False):
            return evidence_module._normalised_facts(kind, facts)

    try:
        expected: Any = walked()
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            evidence_module._normalised_facts(kind, facts)
        return
    got = evidence_module._normalised_facts(kind, facts)
    assert got == expected and (got is facts) == (expected is facts)
    if evidence_module._left_alone(evidence_module._TIMESTAMPS.get(kind, frozenset()), facts):
        assert expected is facts
