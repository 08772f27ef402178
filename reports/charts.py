"""Chart geometry for the HTML report, computed server-side and drawn as inline SVG.

Two charts: the subjects of each clause by status (a stacked bar against the target), and the
age of outstanding security updates per severity against the patch deadline (small histograms).
Only numbers and coordinates are computed here; ``templates/_charts.html.j2`` draws them, so the
report needs no script and no network, and prints as it shows.

The patch-age chart reads the ``patch_lag`` check's results (``measured["outstanding"]``: each
outstanding update's due instant and the severity its deadline comes from) and recomputes no
deadline: an update sits at the deadline plus its lateness (``as_of - due``, in days), so it falls
right of the deadline line exactly when the check found it past due, whatever daylight saving or
``unrated_as`` did to the arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.reports.view import STATUS_ORDER, ClauseRow

BAR_X = 96  # where bars start (clause labels to the left)
BAR_W = 440  # bar length for 100 %
ROW_H = 28
HIST_W, HIST_H = 300, 120  # plot area of one histogram
MAX_BINS = 14


@dataclass(frozen=True, slots=True)
class Segment:
    status: str
    count: int
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class StatusBar:
    row: ClauseRow
    y: float
    segments: tuple[Segment, ...]
    target_x: float
    total: int


@dataclass(frozen=True, slots=True)
class StatusChart:
    bars: tuple[StatusBar, ...]
    width: int
    height: int
    bar_x: int
    bar_w: int
    row_h: int


def status_chart(rows: Sequence[ClauseRow]) -> StatusChart:
    """One stacked bar per clause: counted subjects by status, with the target as a tick."""
    bars = []
    for i, row in enumerate(rows):
        counts = row.counts
        total = row.counted
        x = float(BAR_X)
        segments = []
        for status in STATUS_ORDER:
            n = counts[str(status)]
            if not n or str(status) == "waived":
                continue
            width = BAR_W * n / total
            segments.append(Segment(str(status), n, round(x, 2), round(width, 2)))
            x += width
        bars.append(
            StatusBar(
                row=row,
                y=8 + i * ROW_H,
                segments=tuple(segments),
                target_x=round(BAR_X + BAR_W * row.target, 2),
                total=total,
            )
        )
    return StatusChart(
        bars=tuple(bars),
        width=BAR_X + BAR_W + 230,
        height=16 + len(rows) * ROW_H,
        bar_x=BAR_X,
        bar_w=BAR_W,
        row_h=ROW_H,
    )


@dataclass(frozen=True, slots=True)
class Bin:
    start: float
    end: float
    count: int
    late: bool
    x: float
    width: float
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class AgeHistogram:
    """Ages (days) of outstanding updates of one severity under one patch commitment."""

    clause: str
    commitment_id: str
    severity: str
    deadline: float
    clock: str
    bins: tuple[Bin, ...]
    outstanding: int
    late: int
    max_count: int
    x_max: float
    deadline_x: float
    ticks: tuple[tuple[float, str], ...]
    width: int = HIST_W
    height: int = HIST_H


def patch_age_histograms(ev: Evaluation) -> list[AgeHistogram]:
    """One histogram per patch commitment and severity with a deadline, from the check's
    results."""
    out = []
    for o in ev.outcomes:
        c = o.commitment
        if c.check != "patch_lag":
            continue
        clock = str(c.params.get("clock", "release"))
        ages: dict[str, list[float]] = {}  # days past due, by deadline severity
        for severity, due in _outstanding(o):
            ages.setdefault(severity, []).append((ev.as_of - due).total_seconds() / 86400)
        for severity, days in c.params["deadlines_days"].items():
            late_by = ages.get(str(severity).lower(), [])
            out.append(_histogram(c.clause, c.id, str(severity), float(days), clock, late_by))
    return out


def _outstanding(o: Outcome) -> Iterator[tuple[str, datetime]]:
    """(deadline severity, due) of every outstanding update the check dated, per result."""
    for r in o.results:
        entries = r.measured.get("outstanding", ())
        for entry in entries if isinstance(entries, list | tuple) else ():
            if isinstance(entry, Mapping) and isinstance(entry.get("due"), datetime):
                yield _severity(entry), entry["due"]


def _severity(entry: Mapping[str, Any]) -> str:
    return str(entry.get("deadline_severity") or "").lower()


def _bin_width(x_max: float, deadline: float) -> float:
    candidates = sorted({1, 2, 3, 5, 7, 10, 14, 15, 30, 60, 90, 180, 365})
    fits = [w for w in candidates if math.ceil(x_max / w) <= MAX_BINS]
    aligned = [w for w in fits if deadline > 0 and (deadline / w).is_integer()]
    return float((aligned or fits or [candidates[-1]])[0])


def _histogram(
    clause: str, cid: str, severity: str, deadline: float, clock: str, late_by: list[float]
) -> AgeHistogram:
    """The histogram of updates ``late_by`` days past their due instant (negative: time left).

    Past due means ``as_of > due``, as in the check: such an update is counted in a bin right of
    the deadline, and one not past due (due exactly at ``as_of`` included) left of it.
    """
    ages = [max(0.0, deadline + d) for d in late_by]
    x_max = max([deadline * 2, *(a + 0.001 for a in ages), 1.0])
    width = _bin_width(x_max, deadline)
    n_bins = max(1, math.ceil(x_max / width))
    x_max = n_bins * width
    counts = [0] * n_bins
    first_late = min(n_bins - 1, math.ceil(deadline / width))  # first bin starting at/after it
    for a, d in zip(ages, late_by, strict=True):
        i = min(n_bins - 1, int(a // width))
        counts[max(i, first_late) if d > 0 else max(0, min(i, first_late - 1))] += 1
    top = max(counts) if ages else 0
    scale = HIST_W / x_max
    bins = []
    for i, n in enumerate(counts):
        start, end = i * width, (i + 1) * width
        h = HIST_H * n / top if top else 0.0
        bins.append(
            Bin(
                start=start,
                end=end,
                count=n,
                late=start >= deadline,
                x=round(start * scale, 2),
                width=round(width * scale, 2),
                y=round(HIST_H - h, 2),
                height=round(h, 2),
            )
        )
    ticks = sorted({0.0, deadline, x_max})
    return AgeHistogram(
        clause=clause,
        commitment_id=cid,
        severity=severity,
        deadline=deadline,
        clock=clock,
        bins=tuple(bins),
        outstanding=len(ages),
        late=sum(1 for d in late_by if d > 0),
        max_count=top,
        x_max=x_max,
        deadline_x=round(deadline * scale, 2),
        ticks=tuple((round(t * scale, 2), f"{t:g}") for t in ticks),
    )
