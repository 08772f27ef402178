"""The demo's nights shared with a forked child: the same answers, whoever computed them."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime

from clausewatch.checks import CHECKS
from clausewatch.demo.backfill import _pack, _unpack, evaluated
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.second_core import shared
from clausewatch.policies.load import load_contract

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def test_the_child_computes_the_last_share_in_order() -> None:
    parent = os.getpid()
    got = list(shared(range(10), lambda i: (i * i, os.getpid()), pack=list, unpack=tuple,
                      share=0.6, fork=True))
    assert [v for v, _ in got] == [i * i for i in range(10)]
    assert {pid for _, pid in got[:4]} == {parent}
    assert parent not in {pid for _, pid in got[4:]}  # really computed by the child


def test_what_the_child_does_not_deliver_the_parent_computes() -> None:
    parent = os.getpid()

    def compute(i: int) -> tuple[int, int]:
        if i == 7 and os.getpid() != parent:
            raise RuntimeError("the child fails on item 7")
        return i + 100, os.getpid()

    got = list(shared(range(10), compute, pack=list, unpack=tuple, share=0.5, fork=True))
    assert [v for v, _ in got] == [i + 100 for i in range(10)]
    assert parent not in {pid for _, pid in got[5:7]}
    assert {pid for _, pid in got[7:]} == {parent}  # from the failure on, the parent's own


def test_nights_evaluated_by_the_child_equal_the_parents() -> None:
    text = demo_contract_text(AS_OF.date())
    contract = load_contract("contract.yaml", CHECKS, raw=text.encode())
    alone = list(evaluated(contract, AS_OF, 4, fork=False))
    forked = list(evaluated(contract, AS_OF, 4, fork=True))
    assert [e.as_of for e in forked] == [e.as_of for e in alone]
    assert forked == alone
    assert all(o.commitment is c for o, c in zip(forked[-1].outcomes, contract.commitments,
                                                  strict=True))
    # what the child sends is the whole evaluation, less the contract the parent holds
    for ev in alone:
        assert _unpack(contract, pickle.loads(pickle.dumps(_pack(contract, ev)))) == ev


def test_no_child_on_a_busy_machine_nor_on_one_cpu(monkeypatch) -> None:
    from clausewatch.demo import second_core

    monkeypatch.setattr(second_core.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    monkeypatch.setattr(second_core, "cpus", lambda: 2)
    assert second_core.idle_cpu()
    monkeypatch.setattr(second_core.os, "getloadavg", lambda: (1.8, 1.0, 1.0))
    assert not second_core.idle_cpu()
    monkeypatch.setattr(second_core.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(second_core, "cpus", lambda: 1)
    assert not second_core.idle_cpu()
    parent = os.getpid()
    got = list(shared(range(4), lambda i: os.getpid(), pack=int, unpack=int, share=0.5))
    assert got == [parent] * 4  # the default asks idle_cpu: everything computed here


def test_a_parent_that_stops_early_ends_the_child() -> None:
    import pytest

    nights = shared(range(1000), lambda i: os.getpid(), pack=int, unpack=int, share=1.0,
                    fork=True)
    child = next(nights)
    assert child != os.getpid()
    nights.close()  # what backfill_demo's ``closing`` does on a failure or a stop
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped: not even a zombie left
