"""The runner's garbage-collector policy holds while collectors run and is undone after, however
the collection ends (a crashing collector, a stop request)."""

from __future__ import annotations

import gc
import signal
from dataclasses import dataclass, field

import pytest
from builders import ev

from clausewatch.collectors.runner import collect_all
from clausewatch.core.gc_policy import COLLECTING_THRESHOLD0
from clausewatch.core.interrupt import Stopped


@dataclass
class Probe:
    """Notes the collector's settings from inside its thread; crashes when asked."""

    crash: bool = False
    source: str = "entra"
    origin: str = "entra/t"
    kinds: tuple[str, ...] = ("identity",)
    seen: list[tuple[tuple[int, ...], int, bool]] = field(default_factory=list)

    def collect(self):  # type: ignore[no-untyped-def]
        self.seen.append((gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()))
        if self.crash:
            raise RuntimeError("SDK surprise")
        yield ev("identity", "u@t", {"account": "u@t"}, source="entra", origin="entra/t")


@pytest.fixture
def unfrozen():  # type: ignore[no-untyped-def]
    gc.unfreeze()  # another test may have frozen objects (reading evidence does): start from none
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_policy_holds_during_collection_and_is_restored_after_a_crash(unfrozen):
    ok, crashing = Probe(), Probe(crash=True, origin="entra/u")
    batch = collect_all([ok, crashing], workers=2)
    assert [e.message for e in batch.errors] == ["collector crashed: RuntimeError: SDK surprise"]
    for probe in (ok, crashing):
        (thresholds, frozen, enabled), = probe.seen
        assert thresholds == (COLLECTING_THRESHOLD0, *unfrozen[1:]) and frozen > 0 and enabled
    assert gc.get_threshold() == unfrozen and gc.get_freeze_count() == 0 and gc.isenabled()


def test_policy_is_restored_when_the_run_is_stopped(unfrozen):
    def stop(collector, state):  # type: ignore[no-untyped-def]
        if state != "start":
            raise Stopped(signal.SIGTERM)

    with pytest.raises(Stopped):
        collect_all([Probe()], progress=stop)
    assert gc.get_threshold() == unfrozen and gc.get_freeze_count() == 0


def test_an_outer_freeze_is_left_to_its_owner(unfrozen):
    probe = Probe()
    gc.freeze()
    try:
        outer = gc.get_freeze_count()
        collect_all([probe])
        (_, frozen, _), = probe.seen
        assert 0 < frozen <= outer  # nothing frozen on top of it
        assert 0 < gc.get_freeze_count() <= outer and gc.get_threshold() == unfrozen
    finally:
        gc.unfreeze()
