"""The patch-age chart agrees with the patch_lag verdict: it reads the check's due dates and
never recomputes them, so daylight saving and ``unrated_as`` cannot set it apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from builders import asset, commitment, contract, patch

from clausewatch.checks.engine import evaluate
from clausewatch.core.result import Status
from clausewatch.reports.charts import AgeHistogram, patch_age_histograms


def judge(as_of: datetime, released: datetime, severity: str = "critical", **params):
    """One Paris-time server with one missing update; the commitment allows critical 7 days."""
    seen = as_of - timedelta(hours=1)
    c = commitment("patch_lag", {"deadlines_days": {"critical": 7}, **params})
    evidence = [
        asset("srv-1", observed_at=seen),
        patch("srv-1", "KB-1", severity, "missing", released_at=released,
              first_seen_at=released, observed_at=seen),
    ]  # fmt: skip
    ev = evaluate(contract(c), evidence, [], as_of)
    (result,) = ev.outcomes[0].results
    (hist,) = patch_age_histograms(ev)
    return result, hist


def counted_in(hist: AgeHistogram) -> list[bool]:
    """For each update drawn, whether its bar is drawn as late."""
    return [b.late for b in hist.bins for _ in range(b.count)]


@pytest.mark.parametrize(
    ("released", "as_of", "status", "late"),
    [
        # autumn: Paris falls back on 25 Oct, the week has 7 days and 1 hour; 7 elapsed days
        # have passed at 06:30Z, the wall-clock deadline (08:00 Paris, 07:00Z) has not
        (datetime(2026, 10, 20, 6, 0, tzinfo=UTC), datetime(2026, 10, 27, 6, 30, tzinfo=UTC),
         Status.COMPLIANT, False),
        # spring: Paris springs forward on 29 Mar, the week is an hour short; the wall-clock
        # deadline (07:00 Paris, 05:00Z) has passed at 05:30Z, 7 elapsed days have not
        (datetime(2026, 3, 25, 6, 0, tzinfo=UTC), datetime(2026, 4, 1, 5, 30, tzinfo=UTC),
         Status.BREACHED, True),
    ],
)  # fmt: skip
def test_chart_follows_the_wall_clock_deadline_across_a_dst_change(released, as_of, status, late):
    elapsed = (as_of - released).total_seconds() / 86400
    assert (elapsed > 7) is not late  # elapsed-day arithmetic would say the opposite
    result, hist = judge(as_of, released)
    assert result.status is status
    (entry,) = result.measured["outstanding"]  # the check states the due date it judged by
    assert entry["due"] == result.due if late else entry["due"] > as_of
    assert (hist.outstanding, hist.late) == (1, int(late))
    assert counted_in(hist) == [late]


def test_chart_counts_an_unrated_update_under_the_severity_unrated_as_gives_it():
    as_of = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    result, hist = judge(as_of, as_of - timedelta(days=10), "unspecified", unrated_as="critical")
    assert result.status is Status.BREACHED
    assert result.measured["outstanding"][0]["deadline_severity"] == "critical"
    assert result.measured["outstanding"][0]["severity"] == "unspecified"
    assert (hist.severity, hist.outstanding, hist.late) == ("critical", 1, 1)
    assert counted_in(hist) == [True]


def test_chart_leaves_out_what_the_check_gave_no_deadline():
    as_of = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    result, hist = judge(as_of, as_of - timedelta(days=10), "unspecified")  # no unrated_as
    assert result.status is Status.NO_EVIDENCE
    assert result.measured["outstanding"] == []
    assert (hist.outstanding, hist.late) == (0, 0)


def test_an_update_due_exactly_now_is_drawn_on_time_as_the_check_judges_it():
    released = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)  # no DST change within the week
    result, hist = judge(released + timedelta(days=7), released)
    assert result.status is Status.COMPLIANT  # "within 7 days" is kept at 7 days
    assert (hist.outstanding, hist.late) == (1, 0)
    assert counted_in(hist) == [False]
