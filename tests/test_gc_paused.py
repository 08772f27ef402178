"""``core.gc_policy.paused``: no cyclic collection inside, the collector's state restored after
(an error included), and ``then_freeze`` setting aside what is alive only when it was on."""

from __future__ import annotations

import gc

import pytest

from clausewatch.core.gc_policy import paused


def test_paused_restores_the_collector_after_an_error_and_freezes_on_request() -> None:
    gc.unfreeze()  # another test may have frozen objects (reading evidence does): start from none
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    kept = [[n] for n in range(100)]  # containers alive on the way out
    try:
        with paused(then_freeze=True):
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


def test_paused_inside_a_pause_leaves_the_collector_off_and_freezes_nothing() -> None:
    gc.unfreeze()
    gc.disable()
    try:
        with paused(then_freeze=True):
            pass
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
