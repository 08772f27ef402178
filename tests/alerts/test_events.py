"""Events on transitions over scripted nightly runs, detected against the real store."""

from __future__ import annotations

from datetime import date, timedelta

from nights import OUTAGE, PARIS, B, C, N, R, W, contract, evaluation, info, night

from clausewatch.alerts.events import EventKind, Rules, alert_key, detect
from clausewatch.core.contract import Waiver
from clausewatch.core.evaluation import WaiverState
from clausewatch.history.store import open_history

RULES = Rules(reminder_days=7, waiver_warning_days=14)


def run_script(tmp_path, script, k=None):
    """Record each night and return the events each raised: [(kind, subject, extra), ...]."""
    k = k or contract()
    out = []
    with open_history(tmp_path / "h.sqlite") as store:
        for n, statuses, kw in script:
            ev = evaluation(k, night(n), statuses, **kw)
            detection = detect(store.prior(k.id), ev, RULES)
            out.append(
                [(str(e.kind), e.subject, e.how or (e.due and e.due.date().isoformat()) or "")
                 for e in detection.events]
            )
            store.record(ev, info(night(n), n), contract_text="")
    return out


def test_breach_reminder_cure_relapse_waiver_and_missing_evidence(tmp_path):
    script = [
        (0, {"x": C, "y": C}, {}),
        (1, {"x": R, "y": C}, {"due": {"x": night(3)}}),  # at risk, with its due date
        (2, {"x": R, "y": C}, {"due": {"x": night(3)}}),  # still at risk: no repeat
        (3, {"x": B, "y": C}, {}),  # newly breached
        (4, {"x": B, "y": C}, {}),  # no news
        (5, {"x": N, "y": C}, {"errors": [OUTAGE]}),  # evidence gone: never a cure
        (6, {"x": B, "y": C}, {}),  # still the same breach: nothing new
        (10, {"x": B, "y": C}, {}),  # 7 days since night 3: reminder
        (11, {"x": B, "y": C}, {}),
        (17, {"x": B, "y": C}, {}),  # 14 days: second reminder
        (18, {"x": C, "y": C}, {}),  # cured
        (19, {"x": B, "y": B}, {}),  # relapse: newly breached again
        (20, {"x": W, "y": B}, {}),  # waived: the breach is closed as waived
    ]
    events = run_script(tmp_path, script)
    assert events == [
        [],
        [("at_risk", "x", "2026-10-04")],
        [],
        [("breached", "x", "")],
        [],
        [("evidence_missing", "x", "")],
        [],
        [("reminder", "x", "")],
        [],
        [("reminder", "x", "")],
        [("cured", "x", "compliant")],
        [("breached", "x", ""), ("breached", "y", "")],
        [("cured", "x", "waived")],
    ]


def test_a_partial_run_never_resolves_and_a_complete_one_does(tmp_path):
    script = [
        (0, {"x": B}, {}),
        (1, {}, {"errors": [OUTAGE]}),  # x not seen at all, the run was partial
        (2, {"y": C}, {}),  # a complete run without x: it left the scope
    ]
    events = run_script(tmp_path, script)
    assert events == [[("breached", "x", "")], [], [("cured", "x", "gone")]]


def test_open_breaches_count_what_stays_open(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        ev = evaluation(k, night(0), {"x": B, "y": B})
        assert len(detect(store.prior(k.id), ev, RULES).open_breaches) == 2
        store.record(ev, info(night(0)), contract_text="")
        ev = evaluation(k, night(1), {"x": N, "y": C}, errors=[OUTAGE])
        d = detect(store.prior(k.id), ev, RULES)
        assert d.open_breaches == (("PATCH", "x"),)  # unknown is not cured


def test_waiver_expiring_fires_once_when_it_enters_the_window(tmp_path):
    waiver = Waiver(commitment="PATCH", subjects=("srv-1",), reason="legacy", approver="DSI",
                    expires=date(2026, 10, 20), reference="DER-1")
    k = contract(waivers=[waiver])
    state = [WaiverState(waiver=waiver, status="in_force", applied_to=("srv-1",))]
    # the window opens 14 days before midnight after 20 Oct (Paris): 7 Oct 00:00 Paris,
    # so night 6 (7 Oct, 03:00 Paris) is the first run inside it
    assert night(5) < waiver.end(PARIS) - timedelta(days=14) <= night(6)
    script = [(n, {"srv-1": W}, {"waivers": state}) for n in (4, 5, 6, 7, 8)]
    events = run_script(tmp_path, script, k)
    assert [len(e) for e in events] == [0, 0, 1, 0, 0]
    assert events[2][0][:2] == ("waiver_expiring", "srv-1")


def test_keys_are_stable_and_opaque():
    key = alert_key("ctr-1", "PATCH", "srv-1")
    assert key == alert_key("ctr-1", "PATCH", "srv-1") and len(key) == 32
    assert key != alert_key("ctr-1", "PATCH", "srv-2") and "srv" not in key
    assert EventKind.BREACHED.value == "breached"
