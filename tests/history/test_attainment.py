"""Period attainment and penalties, computed by hand for a small case and compared exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from nights import OUTAGE, PARIS, B, C, N, R, commitment, contract, evaluation, info, night

from clausewatch.core.contract import Penalty
from clausewatch.history.attainment import attainment, percentile
from clausewatch.history.periods import parse_period, period_of
from clausewatch.history.store import open_history

P = commitment("P", penalty=Penalty(per_breach=500, per_day_late=100, cap_per_period=1000,
                                    period="month"))
Q = commitment("Q", penalty=Penalty(per_breach=500, per_day_late=100, cap_per_period=1500,
                                    period="quarter"))
K = contract(P, Q)
DUE_B = night(4) + timedelta(hours=12)
LATE_RUN = night(2) + timedelta(hours=19)  # 22:00 Paris the same day as night 2

# (instant, {subject: status}, due, errors)
SCRIPT = [
    (night(-1), {"a": B, "b": C}, {}, []),  # 30 September: a September night
    (night(0), {"a": B, "b": C}, {}, []),
    (night(1), {"a": C, "b": C}, {}, []),
    (night(2), {"a": B, "b": C}, {}, []),
    (LATE_RUN, {"a": C, "b": C}, {}, []),  # the night's last run is the one that counts
    (night(3), {"a": C, "b": R}, {"b": night(5)}, []),
    (night(4), {"a": C, "b": C}, {}, []),
    (night(5), {"a": C, "b": B}, {"b": DUE_B}, []),
    (night(6), {"a": N, "b": B}, {"b": DUE_B}, [OUTAGE]),
    (night(7), {"a": C, "b": B}, {"b": DUE_B}, []),
    (night(8), {"a": C, "b": C}, {}, []),
    (night(9), {"a": C, "b": C}, {}, []),
    (night(31), {"a": B, "b": C}, {}, []),  # 1 November
    (night(32), {"a": B, "b": C}, {}, []),
    (night(33), {"a": C, "b": C}, {}, []),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("att") / "h.sqlite"
    with open_history(path) as s:
        for i, (when, statuses, due, errors) in enumerate(SCRIPT):
            ev = evaluation(K, when, {"P": statuses, "Q": statuses}, due=due, errors=errors)
            s.record(ev, info(when, i + 1), contract_text="")
        yield s


def test_october_by_hand(store):
    att = attainment(store, K, parse_period("2026-10"))
    assert att.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # midnight in Paris
    assert att.end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # winter time by then
    assert att.runs == 11 and len(att.nights) == 10
    p = att.commitments[0]
    assert [str(n.status) for n in p.nights] == [
        "breached", "compliant", "compliant", "at_risk", "compliant", "breached", "breached",
        "breached", "compliant", "compliant"]
    assert (p.nights_in_compliance, p.nights_breached, p.nights_no_evidence) == (6, 4, 0)
    assert p.night_share == 6 / 10
    assert (p.subject_days, p.subject_days_compliant, p.subject_days_breached,
            p.subject_days_no_evidence) == (20, 15, 4, 1)
    assert p.subject_share == 0.75
    # breaches of the commitment: the one from 30 September (clipped), night 2's, nights 5-7
    assert (p.breaches, p.breaches_started) == (3, 2)
    assert p.breach_days == pytest.approx(27 / 24 + 19 / 24 + 3)
    # findings: a (30 Sep -> night 1), a (night 2, cured the same evening), b (late from its
    # deadline, 12:00 UTC on night 4's day, to night 8); b's at-risk episode cured in time
    assert (p.findings, p.findings_cured, p.cured_within_deadline) == (3, 3, 1)
    assert sorted(p.cure_days) == pytest.approx([19 / 24, 2.0, 3.5])
    assert p.cure_mean == pytest.approx((19 / 24 + 2 + 3.5) / 3)
    assert p.cure_p90 == pytest.approx(3.5)
    # penalty, month cap 1000: day n0 100, breach n2 500, breach n5 500 -> capped to 400,
    # days n5-n7 nothing left; September's breach start is September's
    e = p.exposure
    assert (e.amount, e.uncapped, e.breaches_charged, e.days_charged) == (1000, 1400, 2, 4)
    q = att.commitments[1].exposure
    assert (q.amount, q.uncapped) == (1400, 1400)  # quarter cap 1500 not reached
    assert att.exposure_total == {"EUR": 2400}


def test_november_carries_the_quarter_cap(store):
    att = attainment(store, K, parse_period("2026-11"))
    p, q = att.commitments
    assert len(att.nights) == 3 and p.nights_breached == 2
    assert (p.exposure.amount, p.exposure.uncapped) == (700, 700)  # a new month
    assert (q.exposure.amount, q.exposure.uncapped) == (100, 700)  # 1400 of 1500 used in Oct


def test_the_quarter_at_once(store):
    att = attainment(store, K, parse_period("2026-Q4"))
    p, q = att.commitments
    assert len(att.nights) == 13
    assert p.exposure.amount == 1700  # 1000 (October, capped) + 700 (November)
    assert q.exposure.amount == 1500  # the quarter's cap
    assert p.nights_in_compliance == 6 + 1


def test_a_period_without_runs(store):
    att = attainment(store, K, parse_period("2026-12"))
    p = att.commitments[0]
    assert att.nights == () and p.night_share is None and p.subject_share is None
    assert p.exposure.amount == 0 and p.cure_mean is None and p.cure_p90 is None


def test_periods_cut_in_the_contract_time_zone():
    assert parse_period("2026-Q4").bounds(PARIS)[0] == datetime(2026, 9, 30, 22, tzinfo=UTC)
    # 23:30 UTC on 31 October is already 1 November in Paris
    assert period_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "month", PARIS).label == "2026-11"
    assert period_of(date(2026, 12, 31), "quarter", PARIS).label == "2026-Q4"
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026-12").next().label == "2027-01"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period("2026-13")


def test_nearest_rank_percentile():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
