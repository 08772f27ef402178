"""Run warnings from a collector are kept apart from evidence and errors, and logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from builders import ev

from clausewatch.collectors.runner import collect_all
from clausewatch.core.evidence import RunWarning


@dataclass(frozen=True)
class Warns:
    source: str = "entra"
    origin: str = "entra/t"
    kinds: tuple[str, ...] = ("identity",)

    def collect(self):  # type: ignore[no-untyped-def]
        yield ev("identity", "u@t", {"account": "u@t"}, source="entra", origin="entra/t")
        yield RunWarning(source="entra", origin="entra/t", message="group g named by CA1 is gone")


def test_warnings_are_kept_apart_and_logged(caplog):
    with caplog.at_level(logging.WARNING):
        batch = collect_all([Warns()])
    assert [e.subject for e in batch.evidence] == ["u@t"] and batch.errors == []
    assert [w.message for w in batch.warnings] == ["group g named by CA1 is gone"]
    assert "entra entra/t: group g named by CA1 is gone" in caplog.text
